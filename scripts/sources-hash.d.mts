// Types of scripts/sources-hash.mjs, for the TypeScript that imports it (the test helpers).
export declare const HASH_FILE: string
export declare function buildInputs(root?: string): string[]
export declare function sourcesHash(root?: string): string
