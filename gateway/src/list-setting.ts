import { z } from '@switchyard/infra';

/**
 * A comma-separated list variable (empty by default) whose every entry must pass `isValid`: a bad
 * entry is a config error naming it, so a typo never silently widens or narrows what is allowed.
 */
export function listSetting(isValid: (entry: string) => boolean, expected: string) {
  return z
    .string()
    .default('')
    .transform((raw, ctx) => {
      const entries = raw
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean);
      for (const entry of entries) {
        if (!isValid(entry)) ctx.issues.push({ code: 'custom', input: raw, message: `${JSON.stringify(entry)} is not ${expected}` });
      }
      return entries;
    });
}
