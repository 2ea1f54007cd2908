import { describe, expect, it } from 'vitest';
import { disableWarning, isProductionLike } from './disable-warning.ts';

describe('disableWarning', () => {
  it('uses stronger words for production', () => {
    expect(isProductionLike('production')).toBe(true);
    expect(isProductionLike('prod-eu')).toBe(true);
    expect(isProductionLike('staging')).toBe(false);
    expect(disableWarning('nc', 'production', 'off').message).toContain('This is production');
    expect(disableWarning('nc', 'staging', 'off').message).not.toContain('production');
    expect(disableWarning('nc', 'staging', 'off').message).toContain('“off”');
  });
});
