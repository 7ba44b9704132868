#!/usr/bin/env python3
# test-api-headless.py: the acceptance run of the control API (issue 2, SPEC sections 2 and
# 6) against the real binary: `livetape --create-access-key` makes a key, `livetape
# --headless` serves the API, and api_client.py — an implementation of the signature
# written from the SPEC alone — adds, lists (paged, ordered) and deletes rules, meets every
# validation error of SPEC section 2 with its code and HTTP 400, and is refused for a
# replayed nonce, a stale timestamp, a wrong signature and too many requests. The daemon
# keeps the rules over a restart and ends with status 0 on SIGTERM. TAP output; the
# secret never appears in it.
#
# Needs the session bus and unlocked keyring that tools/test provides.

import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_client  # noqa: E402
from taptest import Daemon, check, run, run_tests  # noqa: E402

DOMAIN = 'live.example.com'
ENDPOINT = 'local'
BUCKET = 'recordings'

SECRETS = []       # scrubbed from everything this script prints


def emit(line):
    for secret in SECRETS:
        line = line.replace(secret, '<secret>')
    print(line, flush=True)


def start_daemon(data_dir):
    """livetape --headless on a free port; returns the daemon and the port."""
    daemon = Daemon('--data-dir', data_dir, '--api-listen', '127.0.0.1:0')
    _host, port = daemon.wait_ready()
    return daemon, port


def stop_daemon(daemon):
    code, _seconds = daemon.stop(timeout=10)
    check(code == 0, f'SIGTERM: exit {code}; output {daemon.text()!r}')


class State:
    data_dir = None
    daemon = None
    client = None
    key_id = None
    secret = None


S = State()


def expect_ok(reply, what):
    check(reply.status == 200, f'{what}: {reply!r}')
    check(isinstance(reply.data, dict) and re.fullmatch(r'[0-9A-F-]{36}', reply.data.get('RequestId', '')),
          f'{what}: no RequestId in {reply!r}')
    return reply.data


def expect_error(reply, status, code, what):
    check(reply.status == status and reply.code == code,
          f'{what}: expected {status} {code}, got {reply!r}')
    for field in ('RequestId', 'HostId', 'Code', 'Message'):
        check(reply.data.get(field), f'{what}: no {field} in {reply!r}')


def add_rule(app, stream=None, method='GET', **extra):
    params = {'DomainName': DOMAIN, 'AppName': app, 'OssEndpoint': ENDPOINT, 'OssBucket': BUCKET}
    if stream is not None:
        params['StreamName'] = stream
    params.update(extra)
    return S.client.call('AddLiveAppRecordConfig', params, method=method)


def describe(**params):
    p = {'DomainName': DOMAIN}
    p.update(params)
    fmt = p.pop('fmt', 'JSON')
    method = p.pop('method', 'GET')
    return S.client.call('DescribeLiveRecordConfig', p, method=method, fmt=fmt)


def records(data):
    value = data['LiveAppRecordList']
    if not isinstance(value, dict):          # XML: an empty list is an empty element
        return []
    items = value.get('LiveAppRecord', [])
    return items if isinstance(items, list) else [items]


def sort_key(record):
    return (record['CreateTime'], record['DomainName'], record['AppName'], record['StreamName'])


# Tests ----------------------------------------------------------------------------------

def test_signer_matches_spec():
    # The client itself first: the SPEC's worked example.
    api_client._self_test()


def test_create_key_and_start():
    S.data_dir = tempfile.mkdtemp(prefix='livetape-api-')
    r = run('--data-dir', S.data_dir, '--create-access-key')
    check(r.returncode == 0, f'--create-access-key exited {r.returncode}: {r.stderr!r}')
    key = json.loads(r.stdout)
    S.key_id, S.secret = key['AccessKeyId'], key['AccessKeySecret']
    SECRETS.append(S.secret)
    check(S.key_id and S.secret, 'empty key')

    S.daemon, port = start_daemon(S.data_dir)
    S.client = api_client.Client(f'http://127.0.0.1:{port}', S.key_id, S.secret)
    data = expect_ok(describe(), 'describe on an empty catalog')
    check(data['TotalNum'] == 0 and records(data) == [], f'not empty: {data}')


def test_add_rules():
    # 12 stream rules in two apps, by GET and by POST, with formats in the SDK's form.
    for i in range(12):
        reply = add_rule('live' if i % 3 else 'news', f's{i:02d}',
                         method='POST' if i % 2 else 'GET',
                         **{'RecordFormat.1.Format': 'm3u8',
                            'RecordFormat.1.CycleDuration': '3600',
                            'RecordFormat.1.SliceDuration': '10',
                            'RecordFormat.2.Format': 'mp4',
                            'OnDemand': '2', 'DelayTime': '120'})
        data = expect_ok(reply, f'add s{i:02d}')
        check(list(data) == ['RequestId'], f'add replies more than a RequestId: {data}')
    # An app rule and a domain rule (AppName *), a unicode stream name.
    expect_ok(add_rule('live', method='POST'), 'add app rule')
    expect_ok(add_rule('*', **{'RecordFormat.1.Format': 'flv'}), 'add domain rule')
    expect_ok(add_rule('live', '直播 room', **{'RecordFormat.1.Format': 'flv'}), 'add unicode stream')
    # A rule on another domain never shows in this domain's list.
    expect_ok(S.client.call('AddLiveAppRecordConfig', {
        'DomainName': 'other.example.org', 'AppName': 'live', 'OssEndpoint': ENDPOINT,
        'OssBucket': BUCKET}), 'add on another domain')


def test_describe_content():
    data = expect_ok(describe(AppName='news', StreamName='s03'), 'describe one rule')
    check(data['TotalNum'] == 1, f'TotalNum {data["TotalNum"]}')
    rule = records(data)[0]
    check(rule['DomainName'] == DOMAIN and rule['AppName'] == 'news' and rule['StreamName'] == 's03',
          f'wrong rule {rule}')
    check(rule['OssEndpoint'] == ENDPOINT and rule['OssBucket'] == BUCKET, f'storage {rule}')
    check(rule['OnDemond'] == 2 and rule['OnDemand'] == 2 and rule['DelayTime'] == 120,
          f'on-demand/delay {rule}')
    check(re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', rule['CreateTime']), f'CreateTime {rule}')
    formats = rule['RecordFormatList']['RecordFormat']
    check([f['Format'] for f in formats] == ['m3u8', 'mp4'], f'formats {formats}')
    check(formats[0]['CycleDuration'] == 3600 and formats[0]['SliceDuration'] == 10,
          f'm3u8 {formats[0]}')
    check('{UnixTimestamp}' in formats[0]['SliceOssObjectPrefix'], f'm3u8 {formats[0]}')
    check(formats[1]['CycleDuration'] == 3600 and 'SliceDuration' not in formats[1], f'mp4 {formats[1]}')

    data = expect_ok(describe(AppName='live', StreamName='直播 room'), 'describe unicode stream')
    check(data['TotalNum'] == 1 and records(data)[0]['StreamName'] == '直播 room', f'{data}')


def test_describe_paged_ordered():
    full = expect_ok(describe(PageSize='30'), 'describe all')
    everything = records(full)
    check(full['TotalNum'] == 15 and len(everything) == 15, f'TotalNum {full["TotalNum"]}')
    check(all(r['DomainName'] == DOMAIN for r in everything), 'another domain shows')
    check(everything == sorted(everything, key=sort_key), 'asc is not by create time')
    check(full['Order'] == 'asc' and full['PageNum'] == 1 and full['PageSize'] == 30, f'{full}')

    desc = records(expect_ok(describe(PageSize='30', Order='desc'), 'describe desc'))
    check(desc == everything[::-1], 'desc is not the reverse of asc')

    # Pages of 5 cover the list exactly once, in order; a page past the end is empty.
    for order, expected in (('asc', everything), ('desc', everything[::-1])):
        seen = []
        for page in range(1, 5):
            data = expect_ok(describe(PageSize='5', PageNum=str(page), Order=order,
                                      method='POST' if page % 2 else 'GET'), f'page {page}')
            check(data['TotalNum'] == 15 and data['TotalPage'] == 3, f'page {page}: {data}')
            check(data['PageNum'] == page and data['PageSize'] == 5 and data['Order'] == order,
                  f'page {page}: {data}')
            seen += records(data)
            check(len(records(data)) == (5 if page <= 3 else 0), f'page {page} length')
        check(seen == expected, f'{order} pages do not add up to the list')

    # Default page size 10: two pages.
    data = expect_ok(describe(), 'default paging')
    check(data['PageSize'] == 10 and data['TotalPage'] == 2 and len(records(data)) == 10, f'{data}')

    # AppName filter (exact).
    data = expect_ok(describe(AppName='news', PageSize='30'), 'AppName filter')
    check(data['TotalNum'] == 4 and all(r['AppName'] == 'news' for r in records(data)), f'{data}')


def test_describe_xml():
    reply = describe(PageSize='6', fmt='XML')
    data = expect_ok(reply, 'describe as XML')
    check(reply.content_type == 'text/xml' and reply.root == 'DescribeLiveRecordConfigResponse',
          f'{reply!r}')
    check(reply.body.startswith("<?xml version='1.0' encoding='UTF-8'?>"), 'no XML declaration')
    check(data['TotalNum'] == '15' and data['TotalPage'] == '3', f'{data}')
    items = records(data)
    check(len(items) == 6, f'{len(items)} LiveAppRecord elements')
    with_formats = [r for r in items if isinstance(r['RecordFormatList'], dict)]
    check(with_formats, 'no RecordFormat elements')

    # No Format at all: XML is the default.
    reply = S.client.call('DescribeLiveRecordConfig', {'DomainName': DOMAIN}, fmt=None)
    expect_ok(reply, 'describe without Format')
    check(reply.content_type == 'text/xml', f'default format {reply.content_type}')


def test_describe_errors():
    for name, value in [('PageSize', '4'), ('PageSize', '31'), ('PageSize', 'x'),
                        ('PageNum', '0'), ('PageNum', '-2'), ('Order', 'random')]:
        expect_error(describe(**{name: value}), 400, 'InvalidParameter', f'{name}={value}')
    reply = S.client.call('DescribeLiveRecordConfig', {})
    expect_error(reply, 400, 'MissingParameter', 'describe without DomainName')


def test_delete_rules():
    expect_ok(S.client.call('DeleteLiveAppRecordConfig', {
        'DomainName': DOMAIN, 'AppName': 'news', 'StreamName': 's00'}), 'delete s00')
    expect_error(S.client.call('DeleteLiveAppRecordConfig', {
        'DomainName': DOMAIN, 'AppName': 'news', 'StreamName': 's00'}),
        404, 'InvalidConfig.NotFound', 'delete s00 again')
    # StreamName absent means the app rule.
    expect_ok(S.client.call('DeleteLiveAppRecordConfig', {'DomainName': DOMAIN, 'AppName': 'live'},
                            method='POST'), 'delete app rule')
    expect_error(S.client.call('DeleteLiveAppRecordConfig', {'DomainName': DOMAIN}),
                 400, 'MissingParameter', 'delete without AppName')
    data = expect_ok(describe(PageSize='30'), 'describe after delete')
    check(data['TotalNum'] == 13, f'TotalNum {data["TotalNum"]} after two deletes')
    names = {(r['AppName'], r['StreamName']) for r in records(data)}
    check(('news', 's00') not in names and ('live', '*') not in names, 'deleted rules still listed')


def test_validation_errors():
    stream_window = {'StreamName': 'win'}
    cases = [
        ({'AppName': None}, 'MissingParameter'),
        ({'OssEndpoint': None}, 'MissingParameter'),
        ({'OssBucket': None}, 'MissingParameter'),
        ({'OssEndpoint': 'https://oss.example.com/x'}, 'InvalidOssEndpoint.Malformed'),
        ({'OssBucket': 'Not_A_Bucket'}, 'InvalidOssBucket.Malformed'),
        # No storage target behind this endpoint, so the bucket cannot exist.
        ({'OssEndpoint': 's3.example.com'}, 'InvalidOssBucket.NotFound'),
        ({'RecordFormat.1.Format': 'wmv'}, 'InvalidFormat.Malformed'),
        ({'RecordFormat.1.Format': 'flv', 'RecordFormat.2.Format': 'flv'},
         'InvalidFormat.IllegalOperation'),
        ({'RecordFormat.1.Format': 'mp4', 'RecordFormat.1.CycleDuration': '59'},
         'InvalidCycleDuration.Malformed'),
        ({'RecordFormat.1.Format': 'mp4', 'RecordFormat.1.CycleDuration': '21601'},
         'InvalidCycleDuration.Malformed'),
        ({'RecordFormat.1.Format': 'm3u8', 'RecordFormat.1.SliceDuration': '4'},
         'InvalidSliceDuration.Malformed'),
        ({'RecordFormat.1.Format': 'm3u8', 'RecordFormat.1.SliceDuration': '31'},
         'InvalidSliceDuration.Malformed'),
        ({'RecordFormat.1.Format': 'flv', 'RecordFormat.1.OssObjectPrefix': ''},
         'MissingOssObjectPrefix'),
        ({'RecordFormat.1.Format': 'm3u8', 'RecordFormat.1.SliceOssObjectPrefix': ''},
         'MissingSliceOssObjectPrefix'),
        ({'RecordFormat.1.Format': 'flv', 'RecordFormat.1.OssObjectPrefix': 'rec/{Sequence}'},
         'InvalidOssObjectPrefix.Malformed'),
        ({'RecordFormat.1.Format': 'flv',
          'RecordFormat.1.OssObjectPrefix': 'r/{EscapedStartTime}_{EscapedEndTime}' + 'x' * 250},
         'InvalidOssObjectPrefix.Malformed'),
        ({'RecordFormat.1.Format': 'm3u8', 'RecordFormat.1.SliceOssObjectPrefix': 'ts/{Sequence}'},
         'InvalidSliceOssObjectPrefix.Malformed'),
        ({'AppName': 'news', 'StreamName': 's03'}, 'ConfigAlreadyExists'),
        ({'DelayTime': '14'}, 'InvalidDelayTime'),
        ({'DelayTime': '21601'}, 'InvalidDelayTime'),
    ]
    now = time.time()
    start = api_client.timestamp(now + 3600)
    cases += [
        (dict(stream_window, StartTime='soon', EndTime=api_client.timestamp(now + 7200)),
         'InvalidStartTime.Malformed'),
        (dict(stream_window, StartTime=start, EndTime='2024-02-30T00:00:00Z'),
         'InvalidEndTime.Malformed'),
        (dict(stream_window, StartTime=api_client.timestamp(now + 16 * 86400),
              EndTime=api_client.timestamp(now + 16 * 86400 + 3600)), 'InvalidStartTime.Mismatch'),
        (dict(stream_window, StartTime=start, EndTime=api_client.timestamp(now + 1800)),
         'InvalidEndTime.Mismatch'),
        (dict(stream_window, StartTime=start, EndTime=api_client.timestamp(now + 3600 + 7 * 86400 + 1)),
         'InvalidEndTime.Mismatch'),
    ]
    for i, (changes, code) in enumerate(cases):
        params = {'DomainName': DOMAIN, 'AppName': 'vapp', 'OssEndpoint': ENDPOINT,
                  'OssBucket': BUCKET}
        for name, value in changes.items():
            if value is None:
                params.pop(name, None)
            else:
                params[name] = value
        for method, fmt in (('GET', 'JSON'), ('POST', 'XML')):
            reply = S.client.call('AddLiveAppRecordConfig', params, method=method, fmt=fmt)
            expect_error(reply, 400, code, f'case {i} {changes} ({method} {fmt})')
            if fmt == 'XML':
                check(reply.root == 'Error', f'XML error root {reply.root}')

    # The same window within the limits is accepted.
    expect_ok(add_rule('vapp', 'win', StartTime=start, EndTime=api_client.timestamp(now + 7200)),
              'window rule')
    data = expect_ok(describe(AppName='vapp'), 'describe window rule')
    rule = records(data)[0]
    check(rule['StartTime'] == start, f'StartTime {rule}')


def test_common_errors():
    c = S.client
    expect_error(c.send('GET', c.sign('GET', {k: v for k, v in c.params('X').items()
                                              if k != 'Action'})),
                 400, 'MissingParameter', 'no Action')
    expect_error(c.call('NoSuchAction'), 404, 'InvalidAction.NotFound', 'unknown action')
    expect_error(c.call('DescribeLiveRecordConfig', {'DomainName': DOMAIN, 'Version': '2015-01-01'}),
                 400, 'InvalidParameter', 'wrong Version')
    expect_error(c.call('DescribeLiveRecordConfig', {'DomainName': DOMAIN,
                                                     'SignatureMethod': 'HMAC-SHA256'}),
                 400, 'InvalidParameter', 'wrong SignatureMethod')
    params = c.params('DescribeLiveRecordConfig', {'DomainName': DOMAIN})
    del params['SignatureNonce']
    expect_error(c.send('GET', c.sign('GET', params)), 400, 'MissingParameter', 'no nonce')
    expect_error(c.send('GET', c.params('DescribeLiveRecordConfig', {'DomainName': DOMAIN})),
                 400, 'MissingParameter', 'no Signature')
    expect_error(c.call('DescribeLiveRecordConfig', {'DomainName': DOMAIN},
                        access_key_id='LTAKNOSUCHKEY000000000000'),
                 404, 'InvalidAccessKeyId.NotFound', 'unknown key')
    # An error asked for in XML comes as <Error>.
    reply = c.call('NoSuchAction', fmt='XML')
    expect_error(reply, 404, 'InvalidAction.NotFound', 'unknown action, XML')
    check(reply.root == 'Error' and reply.content_type == 'text/xml', f'{reply!r}')


def test_wrong_signature():
    c = S.client
    params = c.params('DescribeLiveRecordConfig', {'DomainName': DOMAIN})
    reply = c.send('GET', c.sign('GET', params, secret=S.secret[::-1]))
    expect_error(reply, 400, 'SignatureDoesNotMatch', 'wrong secret')
    signed = c.sign('GET', params)
    signed['DomainName'] = 'tampered.example.com'
    expect_error(c.send('GET', signed), 400, 'SignatureDoesNotMatch', 'tampered parameter')
    # Signed as GET, sent as POST.
    expect_error(c.send('POST', c.sign('GET', params)), 400, 'SignatureDoesNotMatch', 'wrong method')
    # None of these burnt the nonce.
    expect_ok(c.send('GET', c.sign('GET', params)), 'correctly signed with the same nonce')


def test_replayed_nonce():
    c = S.client
    signed = c.sign('GET', c.params('DescribeLiveRecordConfig', {'DomainName': DOMAIN}))
    expect_ok(c.send('GET', signed), 'first use of the nonce')
    expect_error(c.send('GET', signed), 400, 'SignatureNonceUsed', 'replay')
    # A new timestamp and a fresh signature do not make the nonce new again.
    params = dict(signed)
    params['Timestamp'] = api_client.timestamp(time.time() + 1)
    expect_error(c.send('POST', c.sign('POST', params)), 400, 'SignatureNonceUsed', 'replay via POST')


def test_stale_timestamp():
    c = S.client
    now = time.time()
    for offset in (-16 * 60, 16 * 60, -86400):
        reply = c.call('DescribeLiveRecordConfig', {'DomainName': DOMAIN}, unix_time=now + offset)
        expect_error(reply, 400, 'InvalidTimeStamp.Expired', f'timestamp {offset:+d} s')
    # Well inside the window: accepted.
    expect_ok(c.call('DescribeLiveRecordConfig', {'DomainName': DOMAIN}, unix_time=now - 10 * 60),
              'timestamp 10 minutes old')
    expect_error(c.call('DescribeLiveRecordConfig', {'DomainName': DOMAIN, 'Timestamp': 'yesterday'}),
                 400, 'InvalidParameter', 'malformed timestamp')


def test_throttling():
    # More than 30 requests per second from 8 threads: some are refused, and only with
    # Throttling; one refused request is accepted as it is a little later (its nonce was
    # not burnt).
    # Another client for the same key that does not pace itself.
    c = api_client.Client(S.client.base_url, S.key_id, S.secret, rate=None)
    results = []
    lock = threading.Lock()
    time.sleep(1.1)     # the requests of earlier tests leave the one-second window

    def worker():
        # Until some request was throttled (or 400 were sent: a machine too slow to send
        # 31 in a second fails the test).
        while True:
            with lock:
                if len(results) >= 400 or any(r.status != 200 for r, _p in results[-8:]):
                    return
            signed = c.sign('GET', c.params('DescribeLiveRecordConfig', {'DomainName': DOMAIN}))
            reply = c.send('GET', signed)
            with lock:
                results.append((reply, signed))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    throttled = [(r, p) for r, p in results if r.status != 200]
    check(throttled, f'no request of {len(results)} was throttled')
    check(len(results) - len(throttled) >= 30, f'only {len(results) - len(throttled)} accepted')
    for reply, _params in throttled:
        expect_error(reply, 400, 'Throttling', 'rate limit')
    time.sleep(1.2)
    expect_ok(c.send('GET', throttled[0][1]), 'a throttled request retried')


def test_restart_keeps_rules_and_nonces():
    c = S.client
    signed = c.sign('GET', c.params('DescribeLiveRecordConfig', {'DomainName': DOMAIN}))
    expect_ok(c.send('GET', signed), 'a request before the restart')
    stop_daemon(S.daemon)
    S.daemon, port = start_daemon(S.data_dir)
    S.client = api_client.Client(f'http://127.0.0.1:{port}', S.key_id, S.secret)
    data = expect_ok(describe(PageSize='30'), 'describe after restart')
    check(data['TotalNum'] == 14, f'TotalNum {data["TotalNum"]} after restart')
    # A nonce used before the restart is still used.
    expect_error(S.client.send('GET', signed), 400, 'SignatureNonceUsed', 'replay after restart')


def nginx_pids(data_dir):
    """The nginx processes whose command line names @data_dir (the daemon's ingest)."""
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/cmdline', 'rb') as f:
                cmdline = f.read().decode(errors='replace')
            with open(f'/proc/{entry}/stat') as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if 'nginx' in cmdline and data_dir in cmdline and state != 'Z':
            pids.append(int(entry))
    return pids


def online_list(**params):
    p = {'DomainName': 'live.livetape.local'}
    p.update(params)
    fmt = p.pop('fmt', 'JSON')
    return S.client.call('DescribeLiveStreamsOnlineList', p, fmt=fmt)


def online_infos(data):
    value = data['OnlineInfo']
    if not isinstance(value, dict):
        return []
    items = value.get('LiveStreamOnlineInfo', [])
    return items if isinstance(items, list) else [items]


def test_online_list_demo():
    # The real ingest (nginx on the free port taptest gave the daemon) and the demo
    # source, which is on by default on a first start.
    check(nginx_pids(S.data_dir), 'no nginx runs for the daemon')
    deadline = time.monotonic() + 40
    info = None
    while time.monotonic() < deadline:
        data = expect_ok(online_list(), 'DescribeLiveStreamsOnlineList')
        infos = online_infos(data)
        if infos and infos[0].get('VideoCodec') and infos[0].get('Bitrate'):
            info = infos[0]
            break
        time.sleep(0.5)
    check(info is not None, f'the demo stream did not come online with its media: {data!r}')
    check(data['TotalNum'] == 1 and data['TotalPage'] == 1 and data['PageNum'] == 1
          and data['PageSize'] == 2000, f'paging fields: {data!r}')
    check((info['DomainName'], info['AppName'], info['StreamName']) ==
          ('live.livetape.local', 'live', 'demo'), f'identity: {info!r}')
    check(info['SourceKind'] == 'demo' and info['PublishType'] == 'edge', f'kind: {info!r}')
    check(info['VideoCodec'] == 'h264' and info['VideoCodecId'] == 7, f'video: {info!r}')
    check(info['AudioCodec'] == 'aac' and info['AudioCodecId'] == 10, f'audio: {info!r}')
    check((info['Width'], info['Height']) == (1280, 720), f'size: {info!r}')
    check(info['FrameRate'] == 30, f'frame rate: {info!r}')
    check(re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', info['PublishTime']), f'time: {info!r}')
    # The first run's rule records the demo stream (m3u8 + mp4, bucket "demo").
    check(info['RecordState'] in ('starting', 'recording'), f'record state: {info!r}')
    check(info.get('RecordFormats') == 'm3u8,mp4', f'record formats: {info!r}')
    # Filters, paging, XML and errors.
    check(online_infos(expect_ok(online_list(AppName='live', StreamName='demo'), 'filter')),
          'the app/stream filter lost the demo')
    check(not online_infos(expect_ok(online_list(AppName='other'), 'filter')),
          'the app filter matched another app')
    check(not online_infos(expect_ok(online_list(DomainName='other.example.com'), 'domain')),
          'another domain lists the demo')
    check(expect_ok(online_list(PageNum='2', PageSize='1'), 'page 2')['TotalNum'] == 1,
          'TotalNum on page 2')
    xml = online_list(fmt='XML')
    check(xml.status == 200 and '<LiveStreamOnlineInfo>' in xml.body
          and '<StreamName>demo</StreamName>' in xml.body, f'XML reply: {xml!r}')
    expect_error(S.client.call('DescribeLiveStreamsOnlineList', {}), 400, 'MissingParameter',
                 'no DomainName')
    for bad in ('0', '3001', 'x'):
        expect_error(online_list(PageSize=bad), 400, 'InvalidParameter', f'PageSize {bad}')


def test_sigterm():
    stop_daemon(S.daemon)
    check(S.secret not in S.daemon.text(), 'the daemon printed the secret')
    check(not nginx_pids(S.data_dir), f'nginx still runs: {nginx_pids(S.data_dir)}')


TESTS = [
    test_signer_matches_spec,
    test_create_key_and_start,
    test_add_rules,
    test_describe_content,
    test_describe_paged_ordered,
    test_describe_xml,
    test_describe_errors,
    test_delete_rules,
    test_validation_errors,
    test_common_errors,
    test_wrong_signature,
    test_replayed_nonce,
    test_stale_timestamp,
    test_throttling,
    test_restart_keeps_rules_and_nonces,
    test_online_list_demo,
    test_sigterm,
]


def main():
    status = run_tests(TESTS, emit)
    if S.daemon is not None:
        S.daemon.kill()
    if S.data_dir is not None:
        shutil.rmtree(S.data_dir, ignore_errors=True)
    return status

if __name__ == '__main__':
    sys.exit(main())
