/**
 * Under StrykerJS only (vitest.config.ts): test files in the order that kills a mutant soonest. The unit suites
 * of the pure modules run in milliseconds and start no emulator, so they go first; then the others, smallest file
 * first. (vitest's own order puts the slowest files first, which a bailing mutant run pays for every mutant.)
 */
import { statSync } from 'node:fs';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const UNIT = /[\\/](wire|signing|schema|routes|errors-catalogue)\.test\.ts$/;

export default class FastFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const size = (f: TestSpecification) => statSync(f.moduleId).size;
    const rank = (f: TestSpecification) => (UNIT.test(f.moduleId) ? 0 : 1);
    return [...files].sort((a, b) => rank(a) - rank(b) || size(a) - size(b));
  }
}
