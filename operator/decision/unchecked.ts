// The type of a value a validator receives: its caller types it as T, but nothing has checked it yet (a spec from
// the API server, JSON restored from a ConfigMap, a hand-built test input). Typing the validator's parameter as T
// would make every check "unnecessary" to the type checker; typing it as Unchecked<T> keeps each check honest.

/** T before validation: every field may be missing or null, at any depth, and so may every array element. */
export type Unchecked<T> = T extends readonly (infer E)[]
  ? readonly (Unchecked<E> | null | undefined)[]
  : T extends object
    ? { readonly [K in keyof T]?: Unchecked<T[K]> | null }
    : T;
