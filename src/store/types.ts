/**
 * The store's types, for callers that want them from one place. The ports themselves, one file each, are in
 * ./ports/; the conformance suites that every backend passes are in test/store/contract/.
 */
export type * from './ports/index.ts';
