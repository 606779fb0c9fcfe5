import { expect } from 'chai';
import {
  AGORA_UID_DRAW_MAX, AGORA_UID_MAX, DefaultChatUsernamePolicy, InvalidRequestError, accountKeyOf, isValidAgoraUid, isValidChatUsername, parseAccount,
} from '../src/index.js';
import { drawAgoraUid } from '../src/domain/agora-uid.js';
import { parseChannelName } from '../src/domain/channel-name.js';
import { parseNewPassword, parsePresentedPassword } from '../src/domain/password.js';

function rejection(fn: () => unknown): InvalidRequestError | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).to.be.instanceOf(InvalidRequestError);
    return err as InvalidRequestError;
  }
}

describe('account rules', function () {
  const valid: Array<[input: string, account: string, key: string]> = [
    ['jack', 'jack', 'jack'],
    ['Jack', 'Jack', 'jack'],
    ['JACK', 'JACK', 'jack'],
    ['j', 'j', 'j'],
    ['a'.repeat(64), 'a'.repeat(64), 'a'.repeat(64)],
    ['😀'.repeat(64), '😀'.repeat(64), '😀'.repeat(64)],
    ['jack smith', 'jack smith', 'jack smith'],
    ['jack@example.com', 'jack@example.com', 'jack@example.com'],
    ['Ünïcödé', 'Ünïcödé', 'ünïcödé'],
    ['U\u0308ber', 'Über', 'über'],
    ['Straße', 'Straße', 'strasse'],
    ['STRASSE', 'STRASSE', 'strasse'],
    ['ΣΊΣΥΦΟΣ', 'ΣΊΣΥΦΟΣ', 'σίσυφος'],
    ['σίσυφος', 'σίσυφος', 'σίσυφος'],
    ['日本語', '日本語', '日本語'],
    ['İstanbul', 'İstanbul', 'i̇stanbul'],
    ['ｓａｍ', 'sam', 'sam'],
    ['ＳＡＭ', 'SAM', 'sam'],
    ['ｊａｃｋ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'jack@example.com', 'jack@example.com'],
    ['jack\u3000smith', 'jack smith', 'jack smith'],
    ['ｶﾞｷﾞ', 'ガギ', 'ガギ'],
    ['❤', '❤', '❤'],
    ['+8613800000000', '+8613800000000', '+8613800000000'],
    ['a.b-c_d', 'a.b-c_d', 'a.b-c_d'],
  ];
  for (const [input, account, key] of valid) {
    it(`accepts ${JSON.stringify(input)} as ${JSON.stringify(account)} with key ${JSON.stringify(key)}`, function () {
      expect(parseAccount(input)).to.deep.equal({ account, accountKey: key });
    });
  }

  const invalid: Array<[input: unknown, why: RegExp]> = [
    ['', /empty/],
    ['a'.repeat(65), /at most 64/],
    ['😀'.repeat(65), /at most 64/],
    [' jack', /white space/],
    ['jack ', /white space/],
    ['\tjack', /control|white/],
    ['ja\u0000ck', /control/],
    ['ja\nck', /control/],
    ['ja\rck', /control/],
    ['ja\u007fck', /control/],
    ['ja\u0085ck', /control/],
    ['ja\u2028ck', /control/],
    ['\u00a0jack', /white space/],
    ['\u3000jack', /white space/],
    ['fuzz\u200buser', /U\+200B: invisible/],
    ['a\u200db', /U\+200D: invisible/],
    ['a\u00adb', /U\+00AD: invisible/],
    ['a\u202eb', /U\+202E: invisible/],
    ['\u2066jack', /U\+2066: invisible/],
    ['\ufeffjack', /white space|U\+FEFF/],
    ['❤\ufe0f', /U\+FE0F: invisible/],
    ['\uffa0', /U\+1160: invisible/],
    ['jack\u{e0041}', /U\+E0041: invisible/],
    ['a\ue000', /U\+E000: private-use/],
    ['a\u{f0000}', /U\+F0000: private-use/],
    ['a\u0378', /U\+0378: unassigned/],
    ['a\ud800', /unpaired surrogate \(U\+D800\)/],
    ['\udc00a', /unpaired surrogate \(U\+DC00\)/],
    ['𝐬𝐚𝐦', /U\+1D42C: write its standard form "s"/],
    ['ﬁsh', /U\+FB01: write its standard form "fi"/],
    ['x²', /U\+00B2/],
    ['a\u00a0b', /U\+00A0/],
    ['a\u2003b', /U\+2003/],
    [42, /string/],
    [null, /string/],
    [undefined, /string/],
    [{ a: 1 }, /string/],
    [['jack'], /string/],
    [true, /string/],
  ];
  for (const [input, why] of invalid) {
    it(`rejects ${JSON.stringify(input) ?? String(input)}`, function () {
      const err = rejection(() => parseAccount(input));
      expect(err, 'expected a rejection').to.not.equal(undefined);
      expect(err?.field).to.equal('account');
      expect(err?.message).to.match(why);
    });
  }

  it('counts characters after NFC, so a decomposed 64-character account fits', function () {
    const decomposed = 'e\u0301'.repeat(64);
    expect([...decomposed].length).to.equal(128);
    expect(parseAccount(decomposed).account).to.equal('é'.repeat(64));
  });

  it('prepares before counting: 64 fullwidth characters fit, 65 do not', function () {
    expect(parseAccount('ａ'.repeat(64)).account).to.equal('a'.repeat(64));
    expect(rejection(() => parseAccount('ａ'.repeat(65)))?.message).to.match(/at most 64/);
  });

  it('maps every fullwidth ASCII form to the account key of its ASCII character', function () {
    for (let cp = 0x21; cp <= 0x7e; cp += 1) {
      const ascii = String.fromCodePoint(cp);
      const wide = String.fromCodePoint(cp + 0xfee0);
      expect(accountKeyOf(wide), `U+${(cp + 0xfee0).toString(16)}`).to.equal(accountKeyOf(ascii));
      expect(parseAccount(`x${wide}`).accountKey).to.equal(parseAccount(`x${ascii}`).accountKey);
    }
  });

  it('keeps every ASCII account key as it was before preparation (stored keys keep their meaning)', function () {
    // The key of earlier releases: NFC, then upper and lower case.
    const before = (account: string) => account.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
    const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
    const samples = [printable.slice(1, 64), printable.slice(60).trim(), ...Array.from({ length: 500 }, (_, i) => {
      let s = '';
      for (let j = 0; j < 1 + (i % 64); j += 1) s += printable[(i * 31 + j * 17) % printable.length];
      return s.trim() || 'x';
    })];
    for (const sample of samples) {
      const parsed = parseAccount(sample);
      expect(parsed.account).to.equal(sample);
      expect(parsed.accountKey).to.equal(before(sample));
      expect(accountKeyOf(sample)).to.equal(before(sample));
    }
  });

  it('keeps look-alikes of different scripts distinct (Latin a, Cyrillic а, Greek α)', function () {
    const keys = new Set(['sam', 'sаm', 'sαm'].map((a) => parseAccount(a).accountKey));
    expect(keys.size).to.equal(3);
  });

  it('folds case variants to one key', function () {
    const keys = new Set(['Jack', 'JACK', 'jack', 'jAcK'].map(accountKeyOf));
    expect([...keys]).to.deep.equal(['jack']);
  });
});

describe('password rules', function () {
  it('accepts 8 characters by default, and the configured minimum', function () {
    expect(parseNewPassword('12345678')).to.equal('12345678');
    expect(parseNewPassword('1234', 4)).to.equal('1234');
  });

  it('counts characters, not bytes, for the minimum', function () {
    expect(parseNewPassword('😀😀😀😀😀😀😀😀')).to.equal('😀😀😀😀😀😀😀😀');
    expect(rejection(() => parseNewPassword('😀😀😀😀😀😀😀'))?.message).to.match(/at least 8/);
  });

  it('rejects short, oversized and non-string passwords naming the field', function () {
    for (const bad of ['1234567', '', 'x'.repeat(1025), 'é'.repeat(513), 12345678, null, undefined, ['12345678']]) {
      expect(rejection(() => parseNewPassword(bad))?.field, String(bad).slice(0, 20)).to.equal('password');
    }
    expect(parseNewPassword('x'.repeat(1024))).to.have.length(1024);
  });

  it('checks only type and size of a password presented at login', function () {
    expect(parsePresentedPassword('short')).to.equal('short');
    expect(rejection(() => parsePresentedPassword('x'.repeat(1025)))?.field).to.equal('password');
    expect(rejection(() => parsePresentedPassword(''))?.field).to.equal('password');
  });
});

describe('chat username rules', function () {
  const policy = new DefaultChatUsernamePolicy();
  const cases: Array<[key: string, direct: boolean]> = [
    ['jack', true], ['jack.smith', true], ['a-b_c.d', true], ['0', true], ['a'.repeat(64), true],
    ['a'.repeat(65), false], ['jack smith', false], ['jack@example.com', false], ['ünïcödé', false],
    ['日本語', false], ['😀', false], ['u.abc', false], ['u.0123456789abcdef0123456789abcdef01234567', false],
  ];
  for (const [key, direct] of cases) {
    it(`${direct ? 'uses' : 'derives a name for'} ${JSON.stringify(key.length > 20 ? `${key.slice(0, 20)}...` : key)}`, function () {
      const name = policy.usernameFor(key);
      expect(isValidChatUsername(name)).to.equal(true);
      if (direct) expect(name).to.equal(key);
      else expect(name).to.match(/^u\.[0-9a-f]{40}$/);
    });
  }

  it('never lets a direct name equal a derived one', function () {
    const derived = policy.usernameFor('jack smith');
    expect(policy.usernameFor(derived)).to.not.equal(derived);
  });

  it('follows Agora\'s pattern', function () {
    for (const ok of ['a', 'a.b', 'a_b-c', '9'.repeat(64)]) expect(isValidChatUsername(ok), ok).to.equal(true);
    for (const bad of ['', 'A', 'a b', 'a@b', 'é', '9'.repeat(65)]) expect(isValidChatUsername(bad), bad).to.equal(false);
  });
});

describe('agoraUid rules', function () {
  it('draws integers in 1..2^31-1, which a signed 32-bit int (Java, Kotlin) holds', function () {
    let top = 0;
    for (let i = 0; i < 20_000; i++) {
      const uid = drawAgoraUid();
      expect(Number.isInteger(uid) && uid >= 1 && uid <= AGORA_UID_DRAW_MAX, String(uid)).to.equal(true);
      expect(uid | 0, String(uid)).to.equal(uid);
      top = Math.max(top, uid);
    }
    expect(AGORA_UID_DRAW_MAX).to.equal(2 ** 31 - 1);
    // 20 000 uniform draws: the largest is below the upper eighth of the range with probability (7/8)^20000.
    expect(top).to.be.above(AGORA_UID_DRAW_MAX * 7 / 8);
  });

  it('still accepts the uids up to 2^32-1 that earlier users were given', function () {
    expect(isValidAgoraUid(2 ** 31)).to.equal(true);
    expect(isValidAgoraUid(2 ** 32 - 1)).to.equal(true);
  });

  it('rejects 0, negatives, fractions and values above 2^32-1', function () {
    for (const bad of [0, -1, 1.5, AGORA_UID_MAX + 1, Number.NaN]) expect(isValidAgoraUid(bad), String(bad)).to.equal(false);
    expect(isValidAgoraUid(AGORA_UID_MAX)).to.equal(true);
  });
});

describe('channel name rules', function () {
  it('accepts Agora\'s character set up to 63 characters', function () {
    for (const ok of ['room1', 'Room 1', 'a'.repeat(63), '!#$%&()+-:;<=.>?@[]^_{}|~,']) expect(parseChannelName(ok)).to.equal(ok);
  });

  it('rejects empty, long, non-ASCII and control characters naming the field', function () {
    for (const bad of ['', 'a'.repeat(64), 'räum', 'a/b', 'a\u0000b', 'a\nb', 'a"b', 42, undefined, null, ['a']]) {
      expect(rejection(() => parseChannelName(bad))?.field, String(bad)).to.equal('channelName');
    }
  });
});
