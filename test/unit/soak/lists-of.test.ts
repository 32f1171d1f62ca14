// The soak's relist count: a paginated list (what the reflector sends, 500 objects a page) is one list of many LIST
// requests, so the "lists per cache after an apiserver restart" row counts first pages only. At 2,000 services a
// single relist of 4,000 pods is 8 requests; counting requests reported it as 8 relists.
import { expect } from 'chai';
import { describe, it } from 'mocha';
import { listsOf, startsAList, type AuditRequest } from '../../../bench/soak/apiserver-audit.ts';

let id = 0;
const req = (verb: string, resource: string, uri: string, code = 200): AuditRequest => ({
  auditID: String(id++),
  user: 'op',
  verb,
  resource,
  code,
  atMs: 0,
  uri,
});

describe('soak: lists of an apiserver audit log', () => {
  it('counts a list of several pages once, and each page as a request', () => {
    const rs = [
      req('list', 'pods', '/api/v1/pods?limit=500'),
      req('list', 'pods', '/api/v1/pods?continue=abc&limit=500'),
      req('list', 'pods', '/api/v1/pods?limit=500&continue=def'),
      req('list', 'services', '/api/v1/services?labelSelector=a%3Db&limit=500'),
    ];
    const l = listsOf(rs);
    expect(l.lists).to.deep.equal({ 'list pods': 1, 'list services': 1 });
    expect(l.pages).to.deep.equal({ 'list pods': 3, 'list services': 1 });
    expect(l.max).to.equal(1);
  });

  it('counts two lists of one resource as two (a real relist storm still fails the row)', () => {
    const rs = [req('list', 'pods', '/api/v1/pods?limit=500'), req('list', 'pods', '/api/v1/pods')];
    expect(listsOf(rs).max).to.equal(2);
  });

  it('leaves out failed lists, watches and gets', () => {
    const rs = [
      req('list', 'pods', '/api/v1/pods?limit=500', 503),
      req('watch', 'pods', '/api/v1/pods?watch=true&resourceVersion=5'),
      req('get', 'pods', '/api/v1/namespaces/a/pods/b'),
    ];
    expect(listsOf(rs)).to.deep.equal({ lists: {}, pages: {}, max: 0 });
    expect(startsAList(rs[2]!)).to.equal(false);
  });
});
