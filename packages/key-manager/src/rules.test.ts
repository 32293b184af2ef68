import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { redirectUriMatches } from './authorize.ts';
import { s256 } from './grants.ts';
import { parseScope } from './http.ts';
import { redirectUriProblem } from './oauth-routes.ts';
import { allowedScopes } from './system-scopes.ts';

describe('OAuth rules', () => {
  it('matches redirect URIs exactly, with any port only on registered loopback IPs (RFC 9700 §2.1, RFC 8252 §7.3)', () => {
    const reg = ['https://app.example.com/cb', 'http://127.0.0.1/cb', 'http://[::1]:8080/cb'];
    assert.equal(redirectUriMatches(reg, 'https://app.example.com/cb'), true);
    for (const bad of ['https://app.example.com/cb/', 'https://app.example.com/CB', 'https://app.example.com:443/cb', 'https://app.example.com/cb?a=1', 'http://localhost/cb', 'http://127.0.0.1:80/cb/../x']) {
      assert.equal(redirectUriMatches(reg, bad), false, bad);
    }
    assert.equal(redirectUriMatches(reg, 'http://127.0.0.1:51234/cb'), true);
    assert.equal(redirectUriMatches(reg, 'http://[::1]:9/cb'), true);
    assert.equal(redirectUriMatches(reg, 'http://127.0.0.1:51234/cb?x'), false);
  });

  it('validates registered redirect URIs (RFC 7591 §2, K19)', () => {
    assert.equal(redirectUriProblem('https://a.example/cb'), undefined);
    assert.equal(redirectUriProblem('http://127.0.0.1:3000/cb'), undefined);
    for (const bad of ['http://a.example/cb', 'https://a.example/cb#x', 'javascript:alert(1)', 'https://*.a.example/', 'cb', 'https://u:p@a.example/']) {
      assert.ok(redirectUriProblem(bad), bad);
    }
  });

  it('parses scopes per RFC 6749 §3.3', () => {
    assert.deepEqual(parseScope('a  b a'), ['a', 'b']);
    assert.deepEqual(parseScope(undefined), []);
    assert.throws(() => parseScope('a\\b'), (e: { code: string }) => e.code === 'KM_ERR_OAUTH_INVALID_SCOPE');
  });

  it('grants only scopes some role of the user may obtain; Internal/everyone is implicit', () => {
    const map = new Map([
      ['apim:admin', ['admin']],
      ['apim:subscribe', ['admin', 'Internal/subscriber']],
      ['openid', ['Internal/everyone']],
    ]);
    assert.deepEqual(allowedScopes(['apim:admin', 'apim:subscribe', 'openid', 'unknown'], ['Internal/subscriber'], map), ['apim:subscribe', 'openid']);
  });

  it('computes the RFC 7636 appendix B S256 challenge', () => {
    assert.equal(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });
});

