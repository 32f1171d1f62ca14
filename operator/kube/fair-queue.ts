// A FIFO of unique keys, fair across groups (namespaces): one sub-queue per group, served round-robin, so one
// busy namespace with 1,000 waiting keys delays a key of another namespace by at most one turn per other busy
// group, never by the 1,000 keys ahead of it. O(1) push, shift and delete (a deleted key is dropped when its
// turn comes).

/** The group of a work-queue key: its namespace ('' for cluster-scoped keys without a slash). */
export function namespaceOf(key: string): string {
  const i = key.indexOf('/');
  return i === -1 ? '' : key.slice(0, i);
}

/** An array-backed FIFO with an advancing head (no O(n) shift). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}

export class FairQueue {
  private groups = new Map<string, Fifo<string>>();
  /** Groups with waiting keys, in turn order. */
  private turns = new Fifo<string>();
  private members = new Set<string>();
  private groupOf: (key: string) => string;

  constructor(groupOf: (key: string) => string = namespaceOf) {
    this.groupOf = groupOf;
  }

  get size(): number {
    return this.members.size;
  }

  has(key: string): boolean {
    return this.members.has(key);
  }

  /** Adds a key at the end of its group; a key already waiting keeps its place. */
  push(key: string): boolean {
    if (this.members.has(key)) return false;
    this.members.add(key);
    const g = this.groupOf(key);
    let q = this.groups.get(g);
    if (!q) {
      q = new Fifo<string>();
      this.groups.set(g, q);
      this.turns.push(g);
    }
    q.push(key);
    return true;
  }

  /** Takes a waiting key out of the queue; false when it was not waiting. */
  delete(key: string): boolean {
    return this.members.delete(key);
  }

  /** The next key: the first of the group whose turn it is; that group goes to the back of the turns. */
  shift(): string | undefined {
    for (;;) {
      const g = this.turns.shift();
      if (g === undefined) return undefined;
      const q = this.groups.get(g)!;
      let key = q.shift();
      // Deleted keys leave their slot behind; a slot whose key is waiting again serves it early, which is harmless.
      while (key !== undefined && !this.members.has(key)) key = q.shift();
      if (q.length > 0) this.turns.push(g);
      else this.groups.delete(g);
      if (key === undefined) continue;
      this.members.delete(key);
      return key;
    }
  }
}
