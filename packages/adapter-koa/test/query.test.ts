import { InvalidRequestError } from '@chat-app-server/core';
import { expect } from 'chai';
import { parseQuery } from '../src/http/input.js';

// parseQuery skips decoding for components without '%' or '+': these pin that the shortcut decodes
// exactly what the full path decodes and refuses exactly what it refuses.
describe('query strings', () => {
  const names = ['channelName', 'publisherRole'] as const;

  it('passes plain values through and decodes "+" and percent-escapes, in names too', () => {
    expect(parseQuery('channelName=bench-room&publisherRole=true', names)).to.deep.equal({ channelName: 'bench-room', publisherRole: 'true' });
    expect(parseQuery('channelName=a+b%21%E2%82%AC', names)).to.deep.equal({ channelName: 'a b!€' });
    expect(parseQuery('channel%4Eame=x&publisher%52ole', names)).to.deep.equal({ channelName: 'x', publisherRole: '' });
  });

  it('ignores parameters it was not asked for, even malformed ones in their values', () => {
    expect(parseQuery('other=%zz&channelName=r&&x', names)).to.deep.equal({ channelName: 'r' });
  });

  it('refuses bad percent-encoding and a repeated parameter, naming it', () => {
    expect(() => parseQuery('channelName=%zz', names)).to.throw(InvalidRequestError).with.property('field', 'channelName');
    expect(() => parseQuery('channelName=a&channelName=b', names)).to.throw(InvalidRequestError, 'channelName must be given once');
    expect(() => parseQuery('channelName=a&channel%4Eame=b', names)).to.throw(InvalidRequestError, 'channelName must be given once');
  });
});
