/**
 * LiteLLM virtual keys, teams, users and orgs without its database: the `general_settings.custom_auth`
 * hook of custom_auth.py maps each test key below to a `UserAPIKeyAuth` identity. The keys are
 * dealt to the calls of the plan in turn, so every route sees every identity shape.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the hook returns for a key (UserAPIKeyAuth fields); `null` is a field LiteLLM gets as None. */
export interface KeyIdentity {
  key_alias: string;
  team_id: string;
  team_alias: string | null;
  user_id: string;
  user_email: string | null;
  org_id: string;
}

export const VIRTUAL_KEYS: Record<string, KeyIdentity> = {
  'sk-tl-e2e-alice': { key_alias: 'alice-laptop', team_id: 'team-4f1e-alpha', team_alias: 'alpha', user_id: 'u-alice', user_email: 'alice@example.com', org_id: 'org-acme' },
  // A service key: user without an email, so `user` falls back to the user id.
  'sk-tl-e2e-ci': { key_alias: 'ci-pipeline', team_id: 'team-4f1e-alpha', team_alias: 'alpha', user_id: 'svc-ci', user_email: null, org_id: 'org-acme' },
  // A team without an alias, so `team` falls back to the team id.
  'sk-tl-e2e-bob': { key_alias: 'bob-key', team_id: 'team-9c2d-beta', team_alias: null, user_id: 'u-bob', user_email: 'bob@example.com', org_id: 'org-globex' },
};

const KEYS = Object.keys(VIRTUAL_KEYS);

/** The key the n-th call of a plan (0-based) is sent with. */
export function virtualKeyFor(n: number): string {
  return KEYS[n % KEYS.length];
}

/** The `general_settings.custom_auth` value, for a config.yaml in the folder installCustomAuth wrote to. */
export const CUSTOM_AUTH_SETTING = 'custom_auth.user_api_key_auth';

/** Puts custom_auth.py and its key table beside LiteLLM's config.yaml (LiteLLM imports the module from there). */
export function installCustomAuth(workDir: string): void {
  copyFileSync(join(import.meta.dirname, 'custom_auth.py'), join(workDir, 'custom_auth.py'));
  writeFileSync(join(workDir, 'custom_auth_keys.json'), JSON.stringify(VIRTUAL_KEYS, null, 2));
}

/** tokenledger's default attribution of a key's calls: user = email else id, team = alias else id. */
export function expectedAttribution(key: string): { user: string; team: string; key_alias: string; org_id: string } {
  const id = VIRTUAL_KEYS[key];
  return { user: id.user_email ?? id.user_id, team: id.team_alias ?? id.team_id, key_alias: id.key_alias, org_id: id.org_id };
}
