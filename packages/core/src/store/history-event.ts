import type { HistoryEvent, Scope } from '../contract/types';
import { uuidv7 } from '../kit/ids';

/**
 * The history event of one change to one memory. Every write builds its events here, so every
 * event has the same shape whichever operation made it.
 */
export function historyEvent(change: {
  readonly memoryId: string;
  /**
   * The scope of the memory it changes, which may be narrower than the call's (a call for
   * `{ userId }` updates a memory stored with `{ userId, agentId }`); `history()` filters by it.
   */
  readonly scope: Scope;
  readonly kind: HistoryEvent['kind'];
  readonly previousText: string | null;
  readonly text: string | null;
  readonly actor: HistoryEvent['actor'];
  /** When mem records the change; also orders the event's id. */
  readonly now: Date;
  /** When the change became true. @default now */
  readonly validAt?: Date;
}): HistoryEvent {
  return {
    id: uuidv7(change.now.getTime()),
    memoryId: change.memoryId,
    kind: change.kind,
    previousText: change.previousText,
    text: change.text,
    scope: change.scope,
    validAt: change.validAt ?? change.now,
    createdAt: change.now,
    actor: change.actor,
  };
}
