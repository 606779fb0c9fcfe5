import { expect } from 'chai';
import { parseAppKey } from '../src/index.js';

describe('parseAppKey', function () {
  it('splits org and app at the #', function () {
    expect(parseAppKey('611012345#1234567')).to.deep.equal({ orgName: '611012345', appName: '1234567' });
    expect(parseAppKey(' my-org#my_app ')).to.deep.equal({ orgName: 'my-org', appName: 'my_app' });
  });

  it('explains what is wrong with a malformed key', function () {
    expect(() => parseAppKey('')).to.throw(TypeError, /missing/);
    expect(() => parseAppKey('orgapp')).to.throw(TypeError, /exactly one "#"/);
    expect(() => parseAppKey('a#b#c')).to.throw(TypeError, /exactly one "#"/);
    expect(() => parseAppKey('#app')).to.throw(TypeError, /malformed/);
    expect(() => parseAppKey('org/x#app')).to.throw(TypeError, /malformed/);
  });
});
