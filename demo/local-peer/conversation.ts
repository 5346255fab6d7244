/**
 * A call's conversation: its items (`realtime.item`: user and assistant messages, function calls and their
 * outputs) in order, as `conversation.item.retrieve` returns them and `previous_item_id` chains them. Items are
 * stored as sent to the client; changes (a transcript that arrived, a truncation) replace the stored object.
 */

/** One conversation item as the API shows it (`id`, `type`, `object: "realtime.item"`, …). */
export type ConversationItem = { id: string; type: string; [field: string]: unknown };

export class Conversation {
  readonly #items = new Map<string, ConversationItem>();
  #lastId: string | null = null;

  /** The newest item's id (the `previous_item_id` of the next one), null when empty. */
  get lastId(): string | null {
    return this.#lastId;
  }

  /** Adds (or replaces) `item`; returns the id of the item before it. */
  add(item: ConversationItem): string | null {
    const previous = this.#lastId;
    this.#items.set(item.id, item);
    this.#lastId = item.id;
    return previous;
  }

  get(id: string): ConversationItem | undefined {
    return this.#items.get(id);
  }

  /** Replaces the stored copy of an item (no-op when it was deleted). */
  update(id: string, change: (item: ConversationItem) => ConversationItem): ConversationItem | undefined {
    const item = this.#items.get(id);
    if (!item) return undefined;
    const next = change(item);
    this.#items.set(id, next);
    return next;
  }

  /** Removes an item; false when unknown. */
  delete(id: string): boolean {
    if (!this.#items.delete(id)) return false;
    if (this.#lastId === id) this.#lastId = [...this.#items.keys()].at(-1) ?? null;
    return true;
  }

  /** Items in order. */
  items(): ConversationItem[] {
    return [...this.#items.values()];
  }
}
