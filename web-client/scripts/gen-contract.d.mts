/** Types of gen-contract.mjs for the TypeScript that imports it (src/api/contract.test.ts). */
export const SCHEMA_PATH: string;
export const OUTPUT_PATH: string;
export function typeName(key: string): string;
export function generateContract(schema: object): Promise<string>;
export function readSchema(): object;
export function readCommitted(): string | null;
