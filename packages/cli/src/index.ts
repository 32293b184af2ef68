export { startNode, StartupError } from './runtime/node.ts';
export type { RunningNode } from './runtime/node.ts';
export type { Component, ComponentDeps, ComponentFactory } from './runtime/components.ts';
export { startTestNode } from './test-node.ts';
export type { TestNode } from './test-node.ts';
