import fs from 'node:fs';
import { z } from 'zod';
import { describeIssue, sessionPatchSchema, type SessionPatch } from '../protocol/client-events.ts';
import { normalizeOrigin } from './origins.ts';

/**
 * Named agents for sites without a backend (`--agents agents.json`): the server mints the
 * short-lived client secret itself, for pages of the agent's origins only.
 */
const agentSchema = z
  .object({
    /** The session config every visitor gets, pinned (instructions, voice, tools, …). */
    session: sessionPatchSchema.default({}),
    /** Exact origins whose pages may start this agent. */
    origins: z.array(z.string().max(300)).min(1).max(64),
    /** Session length, seconds. @defaultValue the server's --secret-session-seconds */
    max_session_seconds: z.number().int().min(1).max(86_400).optional(),
    /** Secrets one visitor address may get per minute. @defaultValue 10 */
    mints_per_ip_per_minute: z.number().int().min(1).max(100_000).default(10),
    /** Secrets the agent hands out per minute in all. @defaultValue 600 */
    mints_per_minute: z.number().int().min(1).max(1_000_000).default(600),
    /** Visitors keep a memory across visits, by an id their browser keeps; otherwise each visit is anonymous. */
    persist_users: z.boolean().default(false),
  })
  .strict();

const agentsFileSchema = z.object({ agents: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'agent names are 1–64 lower-case letters, digits and dashes'), agentSchema) }).strict();

export interface Agent {
  name: string;
  session: SessionPatch;
  origins: readonly string[];
  maxSessionSeconds?: number;
  mintsPerIpPerMinute: number;
  mintsPerMinute: number;
  persistUsers: boolean;
}

/** The agents of a JSON file; a bad file is an error naming the agent and the field. */
export function loadAgents(file: string): Agent[] {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TypeError(`--agents ${file}: ${(error as Error).message}`);
  }
  const parsed = agentsFileSchema.safeParse(raw);
  if (!parsed.success) throw new TypeError(`--agents ${file}: ${describeIssue(parsed.error).message}`);
  return Object.entries(parsed.data.agents).map(([name, a]) => ({
    name,
    session: a.session,
    origins: a.origins.map((o, i) => {
      const n = normalizeOrigin(o);
      if (!n) throw new TypeError(`--agents ${file}: agents.${name}.origins.${i}: '${o}' is not an origin like https://example.com`);
      return n;
    }),
    maxSessionSeconds: a.max_session_seconds,
    mintsPerIpPerMinute: a.mints_per_ip_per_minute,
    mintsPerMinute: a.mints_per_minute,
    persistUsers: a.persist_users,
  }));
}

/** What a page sends to start an agent: the visitor id its browser keeps (used when the agent persists users). */
export const agentMintSchema = z
  .object({ visitor: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'a visitor id is 16–64 letters, digits, _ or -').optional() })
  .strict();

/** The key id a secret of this agent carries: sessions and limits count per agent. */
export function agentKeyId(name: string): string {
  return `agent:${name}`;
}
