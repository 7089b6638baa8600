import { describe, expect, it } from 'vitest';
import { DedupeWindow, laterId } from './dedupe-window.js';

describe('DedupeWindow', () => {
  it('answers true the first time an id is offered, false after', () => {
    const window = new DedupeWindow(10);
    expect(window.firstTime('7')).toBe(true);
    expect(window.firstTime('8')).toBe(true);
    expect(window.firstTime('7')).toBe(false);
    expect(window.firstTime('8')).toBe(false);
    expect(window.size).toBe(2);
  });

  it('remembers at most `capacity` ids, forgetting the oldest first', () => {
    const window = new DedupeWindow(3);
    for (const id of ['1', '2', '3', '4']) expect(window.firstTime(id)).toBe(true);
    expect(window.size).toBe(3);
    // '1' was forgotten; the three newest are still known.
    expect(window.firstTime('2')).toBe(false);
    expect(window.firstTime('4')).toBe(false);
    expect(window.firstTime('1')).toBe(true);
    expect(window.size).toBe(3);
  });

  it('stays bounded over many ids', () => {
    const window = new DedupeWindow(100);
    for (let i = 0; i < 10_000; i++) window.firstTime(String(i));
    expect(window.size).toBe(100);
    expect(window.firstTime('9999')).toBe(false);
    expect(window.firstTime('9899')).toBe(true);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new DedupeWindow(0)).toThrow(RangeError);
    expect(() => new DedupeWindow(1.5)).toThrow(RangeError);
  });
});

describe('laterId', () => {
  it('orders decimal ids as numbers, also past 2^53', () => {
    expect(laterId('9', '10')).toBe('10');
    expect(laterId('10', '9')).toBe('10');
    expect(laterId('123', '124')).toBe('124');
    expect(laterId('9007199254740993', '9007199254740992')).toBe('9007199254740993');
    expect(laterId(undefined, '5')).toBe('5');
    expect(laterId('5', undefined)).toBe('5');
    expect(laterId(undefined, undefined)).toBeUndefined();
  });
});
