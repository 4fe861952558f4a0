import { describe, expect, it } from 'vitest';

import { runFixture } from './helpers';

describe('fd ownership', () => {
  it('handles dropped without close() are closed on GC, with a warning', () => {
    const r = runFixture('gc-warning.js');
    expect(r.status).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.openBefore).toBe(2);
    expect(o.openAfter).toBe(0);
    expect(o.warnings).toHaveLength(2);
    for (const w of o.warnings) {
      expect(w).toMatchObject({ name: 'Warning', code: 'NSFD_FD_GC' });
      expect(w.message).toMatch(/^Closing file descriptor \d+ on garbage collection$/);
    }
  });
});
