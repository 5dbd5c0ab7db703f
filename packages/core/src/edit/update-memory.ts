import { NotFoundError } from '../contract/errors';
import type { Embedder } from '../contract/interfaces';
import { toMemoryItem, withExpiry, type MemoryItem } from '../contract/memory-item';
import type { MemoryRecord, Metadata, Scope, Usage } from '../contract/types';
import { mergeMetadata } from '../contract/validation';
import { hashText } from '../kit/ids';
import { UsageMeter } from '../llm/usage-meter';
import { historyEvent } from '../store/history-event';
import type { MemoryWriter } from '../store/memory-writer';

/**
 * `Memory.update`: under the locks of the scope and the memory, re-reads it, re-embeds a changed
 * text, merges metadata keys, sets or clears the expiry, and commits one UPDATE through the write protocol.
 * @throws {NotFoundError} when no memory with this id is in `scope`.
 */
export async function updateMemory(
  request: {
    readonly id: string;
    readonly scope: Scope;
    /** The new text, trimmed; `undefined` keeps the text. */
    readonly text: string | undefined;
    /** Keys to merge into the metadata; `undefined` keeps it. */
    readonly metadata: Metadata | undefined;
    /** The new expiry (epoch ms), `null` to make it never expire, `undefined` to keep it. */
    readonly expiresAt?: number | null | undefined;
    readonly signal?: AbortSignal | undefined;
  },
  parts: { readonly writer: MemoryWriter; readonly embedder: Embedder; readonly now: () => Date },
): Promise<{ memory: MemoryItem; usage: Usage }> {
  const { id, scope, text, metadata } = request;
  const signal = request.signal ? { signal: request.signal } : {};
  return parts.writer.locked({ scope, ids: [id], signal: request.signal }, async (session) => {
    const record = (await session.read([id])).get(id);
    if (!record) throw new NotFoundError('memory', id);
    const now = parts.now();
    const meter = new UsageMeter();
    const merged = metadata ? mergeMetadata(record.metadata, metadata, 'change.metadata') : record.metadata;
    const textChanged = text !== undefined && text !== record.text;
    const vector = textChanged ? (await meter.embed(parts.embedder, { texts: [text], purpose: 'document', ...signal }))[0]! : record.vector;
    const updated: MemoryRecord = {
      ...record,
      vector,
      text: textChanged ? text : record.text,
      hash: textChanged ? hashText(text) : record.hash,
      metadata: withExpiry(merged, request.expiresAt),
      updatedAt: now,
    };
    const event = historyEvent({
      memoryId: record.id,
      scope: record.scope,
      kind: 'UPDATE',
      previousText: record.text,
      text: updated.text,
      actor: 'update',
      now,
    });
    await session.commit({ events: [event], upserts: [updated], deletes: [] });
    return { memory: toMemoryItem(updated), usage: meter.usage };
  });
}
