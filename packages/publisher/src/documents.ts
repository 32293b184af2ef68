import { newId } from '@gatehouse/core';
import type { Clock } from '@gatehouse/core';
import type { Databases } from '@gatehouse/data';
import { DataErrors } from '@gatehouse/data';
import { PublisherErrors } from './errors.ts';
import type { Actor } from './service.ts';
import { apiStore } from './store/apis.ts';
import { deploymentStore } from './store/deployments.ts';
import type { ScopeRow } from './store/deployments.ts';
import { registryStore } from './store/registry.ts';
import type { DocumentRow } from './store/registry.ts';

export interface DocumentInput {
  name: string;
  type: string;
  summary?: string | null;
  sourceType: string;
  sourceUrl?: string | null;
  inlineContent?: string | null;
  otherTypeName?: string | null;
  visibility: string;
}

export function toDocumentDto(d: DocumentRow): Record<string, unknown> {
  return {
    documentId: d.id,
    name: d.name,
    type: d.type,
    summary: d.summary ?? undefined,
    sourceType: d.source_type,
    sourceUrl: d.source_url ?? undefined,
    fileName: d.file_name ?? undefined,
    otherTypeName: d.other_type_name ?? undefined,
    visibility: d.visibility,
    createdTime: String(d.created_at),
    createdBy: d.created_by,
    lastUpdatedTime: String(d.updated_at),
    lastUpdatedBy: d.updated_by,
  };
}

export function toScopeDto(s: ScopeRow): Record<string, unknown> {
  return { id: s.id, name: s.name, displayName: s.display_name ?? s.name, description: s.description ?? '', bindings: JSON.parse(s.bindings) as string[], usageCount: 0 };
}

const docNotFound = (id: string) => PublisherErrors.create('PUB_ERR_DOCUMENT_NOT_FOUND', { description: `No document ${id}` });

/** Documents (shared database) and shared scopes (apim database). */
export function createDocumentService(deps: { databases: Pick<Databases, 'apim' | 'shared'>; clock: Clock }) {
  const { databases: dbs, clock } = deps;
  const assertApi = async (tenantId: number, apiId: string) => {
    if (!(await apiStore.get(dbs.apim, tenantId, apiId))) throw PublisherErrors.create('PUB_ERR_API_NOT_FOUND', { description: `No API with id ${apiId}` });
  };
  const validateSource = (input: DocumentInput) => {
    if (input.sourceType === 'URL') {
      let ok = false;
      try {
        const u = new URL(input.sourceUrl ?? '');
        ok = u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        ok = false;
      }
      if (!ok) throw PublisherErrors.create('PUB_ERR_DOCUMENT_CONTENT', { description: 'A URL document needs an http(s) sourceUrl', details: [{ field: 'sourceUrl', message: 'must be an http(s) URL' }] });
    }
  };
  const uniqueDoc = (err: unknown): never => {
    if (DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION')) throw PublisherErrors.create('PUB_ERR_DOCUMENT_EXISTS', { cause: err });
    throw err;
  };
  const get = async (tenantId: number, apiId: string, id: string) => {
    await assertApi(tenantId, apiId);
    const d = await registryStore.getDocument(dbs.shared, tenantId, apiId, id);
    if (!d) throw docNotFound(id);
    return d;
  };

  return {
    async list(tenantId: number, apiId: string, page: { limit: number; offset: number }) {
      await assertApi(tenantId, apiId);
      return registryStore.listDocuments(dbs.shared, tenantId, apiId, page);
    },
    get,
    async create(actor: Actor, apiId: string, input: DocumentInput): Promise<DocumentRow> {
      await assertApi(actor.tenantId, apiId);
      validateSource(input);
      const now = clock.now();
      const row: DocumentRow = {
        id: newId(), tenant_id: actor.tenantId, api_id: apiId, name: input.name, type: input.type, other_type_name: input.otherTypeName ?? null,
        summary: input.summary ?? null, source_type: input.sourceType, source_url: input.sourceType === 'URL' ? (input.sourceUrl ?? null) : null,
        visibility: input.visibility, inline_content: input.sourceType === 'INLINE' || input.sourceType === 'MARKDOWN' ? (input.inlineContent ?? null) : null,
        file_name: null, file_media_type: null, file_content: null, created_by: actor.username, updated_by: actor.username, created_at: now, updated_at: now,
      };
      await registryStore.insertDocument(dbs.shared, row).catch(uniqueDoc);
      return row;
    },
    async update(actor: Actor, apiId: string, id: string, input: DocumentInput): Promise<DocumentRow> {
      const base = await get(actor.tenantId, apiId, id);
      validateSource(input);
      const keepContent = base.source_type === input.sourceType;
      const row: DocumentRow = {
        ...base, name: input.name, type: input.type, other_type_name: input.otherTypeName ?? null, summary: input.summary ?? null,
        source_type: input.sourceType, source_url: input.sourceType === 'URL' ? (input.sourceUrl ?? null) : null, visibility: input.visibility,
        inline_content: input.sourceType === 'INLINE' || input.sourceType === 'MARKDOWN' ? (input.inlineContent ?? (keepContent ? base.inline_content : null)) : null,
        file_name: input.sourceType === 'FILE' && keepContent ? base.file_name : null,
        file_media_type: input.sourceType === 'FILE' && keepContent ? base.file_media_type : null,
        file_content: input.sourceType === 'FILE' && keepContent ? base.file_content : null,
        updated_by: actor.username, updated_at: clock.now(),
      };
      await registryStore.updateDocument(dbs.shared, row).catch(uniqueDoc);
      return row;
    },
    async delete(actor: Actor, apiId: string, id: string) {
      await assertApi(actor.tenantId, apiId);
      if (!(await registryStore.deleteDocument(dbs.shared, actor.tenantId, apiId, id))) throw docNotFound(id);
    },
    async setContent(actor: Actor, apiId: string, id: string, content: { inline?: string; file?: { name: string; mediaType: string; data: Buffer } }): Promise<DocumentRow> {
      const base = await get(actor.tenantId, apiId, id);
      const row = { ...base, updated_by: actor.username, updated_at: clock.now() };
      if (content.file) {
        if (base.source_type !== 'FILE') throw PublisherErrors.create('PUB_ERR_DOCUMENT_CONTENT', { description: `A ${base.source_type} document takes inlineContent, not a file` });
        // Only the base name, without path or control characters: it is echoed in Content-Disposition.
        const name = content.file.name.split(/[\\/]/).pop()!.replace(/[^\w.\- ]+/g, '_').slice(0, 200) || 'document';
        Object.assign(row, { file_name: name, file_media_type: content.file.mediaType, file_content: content.file.data.toString('base64') });
      } else if (content.inline !== undefined) {
        if (base.source_type !== 'INLINE' && base.source_type !== 'MARKDOWN') {
          throw PublisherErrors.create('PUB_ERR_DOCUMENT_CONTENT', { description: `A ${base.source_type} document takes ${base.source_type === 'FILE' ? 'a file' : 'no content'}, not inlineContent` });
        }
        row.inline_content = content.inline;
      } else {
        throw PublisherErrors.create('PUB_ERR_DOCUMENT_CONTENT', { description: 'Send either file or inlineContent' });
      }
      await registryStore.updateDocument(dbs.shared, row);
      return row;
    },

    // --- shared scopes ---
    listScopes: (tenantId: number, page: { limit: number; offset: number }) => deploymentStore.listScopes(dbs.apim, tenantId, page),
    async getScope(tenantId: number, id: string) {
      const s = await deploymentStore.getScope(dbs.apim, tenantId, id);
      if (!s) throw PublisherErrors.create('PUB_ERR_SCOPE_NOT_FOUND', { description: `No shared scope ${id}` });
      return s;
    },
    async createScope(tenantId: number, input: { name: string; displayName?: string; description?: string; bindings?: string[] }) {
      const now = clock.now();
      const row: ScopeRow = {
        id: newId(), tenant_id: tenantId, name: input.name, display_name: input.displayName ?? input.name, description: input.description ?? null,
        bindings: JSON.stringify(input.bindings ?? []), created_at: now, updated_at: now,
      };
      await deploymentStore.insertScope(dbs.apim, row).catch((err: unknown) => {
        if (DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION')) throw PublisherErrors.create('PUB_ERR_SCOPE_EXISTS', { description: `Scope ${input.name} exists`, cause: err });
        throw err;
      });
      return row;
    },
    async updateScope(tenantId: number, id: string, input: { name: string; displayName?: string; description?: string; bindings?: string[] }) {
      const base = await this.getScope(tenantId, id);
      if (input.name !== base.name) throw PublisherErrors.create('PUB_ERR_SCOPE_EXISTS', { message: 'A shared scope cannot be renamed', description: `Scope ${id} is named ${base.name}` });
      const row: ScopeRow = {
        ...base, display_name: input.displayName ?? base.display_name, description: input.description ?? base.description,
        bindings: input.bindings ? JSON.stringify(input.bindings) : base.bindings, updated_at: clock.now(),
      };
      await deploymentStore.updateScope(dbs.apim, row);
      return row;
    },
    async deleteScope(tenantId: number, id: string) {
      if (!(await deploymentStore.deleteScope(dbs.apim, tenantId, id))) throw PublisherErrors.create('PUB_ERR_SCOPE_NOT_FOUND', { description: `No shared scope ${id}` });
    },
  };
}

export type DocumentService = ReturnType<typeof createDocumentService>;
