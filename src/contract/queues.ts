// The messages of the app's own queues, as zod schemas; their TypeScript types are inferred from them
// (src/contract/types.ts), so the producer (the core, through its port) and the consumer (the trigger, which parses)
// agree by construction.
import { z } from 'zod';

/**
 * A completion message. `chainId` names the collection chain the session's completion started (racing completions
 * each enqueue one, but only the chain recorded on the session runs); `try` counts that chain's polls of Face;
 * `early` how often the message arrived before its completion had recorded the chain (it is looked at again shortly).
 */
export const completionMessageSchema = z.object({
  sessionId: z.uuid(),
  try: z.number().int().min(1).default(1),
  chainId: z.uuid().optional(),
  early: z.number().int().min(1).max(100).optional(),
});
