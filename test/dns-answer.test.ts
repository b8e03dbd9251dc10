import { describe, expect, it } from 'vitest';
import { canonicalIp, formatRecord } from '../src/net/dns-answer.js';

describe('canonicalIp', () => {
  it('gives a canonical dotted quad back as it is', () => {
    for (const ip of ['1.2.3.4', '0.0.0.0', '255.255.255.255', '192.0.2.10', '10.0.0.1']) expect(canonicalIp(ip)).toBe(ip);
  });

  it('refuses what is not an IPv4 address, whether or not it looks like one', () => {
    for (const text of ['01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', ' 1.2.3.4', '1.2.3.4\n', 'example.com', '']) expect(canonicalIp(text)).toBeUndefined();
  });

  it('writes IPv6 addresses in their canonical form', () => {
    expect(canonicalIp('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(canonicalIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
  });

  it('formats A and AAAA answers with it', () => {
    expect(formatRecord({ type: 'A', name: 'a.example', data: '192.0.2.10' })).toBe('192.0.2.10');
    expect(formatRecord({ type: 'AAAA', name: 'a.example', data: '2001:0db8:0000:0000:0000:0000:0000:0001' })).toBe('2001:db8::1');
  });
});
