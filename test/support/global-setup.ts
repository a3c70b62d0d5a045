/** Runs once before the suite: a fresh directory for the operations the tests exercise (tce contracts coverage). */
import { clearExercised } from '../../src/contracts/coverage.js';

export default function setup(): void {
  clearExercised();
}
