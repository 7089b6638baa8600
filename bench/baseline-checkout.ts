/**
 * An earlier commit of this repository, checked out beside the working tree (a detached git
 * worktree under the system temp dir) and runnable with this tree's installed packages, so a
 * benchmark can run the code before a change side by side with the code after it, in one run on
 * the same loaded machine, instead of comparing figures from runs made hours apart.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BaselineCheckout {
  /** The checkout's root: run its files with it as the working directory. */
  root: string;
  /** The commit, abbreviated, for labels. */
  commit: string;
}

/**
 * Checks out `ref` of the repository at `repoRoot` (reused when that commit is already there).
 * Its node_modules links to every package installed in `repoRoot`, except the workspace packages
 * (@switchyard/*), which resolve to the checkout's own sources: the old code runs on today's
 * dependencies, so a difference measured is a difference in our code.
 */
export function baselineCheckout(repoRoot: string, ref: string): BaselineCheckout {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
  const commit = git('rev-parse', '--short', `${ref}^{commit}`);
  const root = join(tmpdir(), `switchyard-baseline-${commit}`);
  if (!existsSync(join(root, '.git'))) {
    git('worktree', 'prune');
    git('worktree', 'add', '--detach', '--force', root, commit);
  }
  const modules = join(root, 'node_modules');
  if (!existsSync(modules)) {
    mkdirSync(join(modules, '@switchyard'), { recursive: true });
    const installed = join(repoRoot, 'node_modules');
    for (const entry of readdirSync(installed)) {
      if (entry !== '@switchyard') symlinkSync(join(installed, entry), join(modules, entry));
    }
    for (const workspace of readdirSync(join(installed, '@switchyard'))) {
      symlinkSync(join('..', '..', workspace), join(modules, '@switchyard', workspace));
    }
  }
  return { root, commit };
}
