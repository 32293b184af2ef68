import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'data/**', 'packages/ui/dist/**', 'packages/ui/test-artifacts/**', '.test-artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'No default exports: use named exports.' },
        { selector: 'TSEnumDeclaration', message: 'No enums: use an `as const` object.' },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['packages/*/src/**/*.ts', 'packages/ui/src/**/*.tsx'],
    ignores: ['packages/config/src/**', 'packages/testing/src/**', '**/*.test.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Only packages/config reads process.env.' }],
    },
  },
  {
    // Config files whose tools read a default export.
    files: ['eslint.config.js', 'packages/ui/vite.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // The web UIs (React, run in the browser): TSX as well as TS.
    files: ['packages/ui/src/**/*.{ts,tsx}'],
    languageOptions: { parserOptions: { ecmaFeatures: { jsx: true } } },
  },
);
