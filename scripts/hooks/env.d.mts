// Types of env.mjs for the tests.
export const REQUIRED_BEFORE_UP: string[];
export function need(env: Record<string, string | undefined>, name: string): string;
export function optional(env: Record<string, string | undefined>, name: string, fallback: string): string;
export function runHook(name: string, main: () => Promise<void>): void;
