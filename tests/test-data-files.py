#!/usr/bin/env python3
# test-data-files.py: validates the project files that are not C code — the desktop file,
# the AppStream metainfo, the GSettings schema, the icons and the flatpak manifest — with
# the tools distributions and Flathub use. TAP output, suite core.
#
#   test-data-files.py SOURCE_ROOT BUILD_ROOT APP_ID VERSION

import configparser
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import check, main, run, test  # noqa: E402

SOURCE_ROOT, BUILD_ROOT, APP_ID, VERSION = sys.argv[1:5]
DATA_SRC = os.path.join(SOURCE_ROOT, 'data')
DATA_BUILD = os.path.join(BUILD_ROOT, 'data')
DESKTOP = os.path.join(DATA_BUILD, APP_ID + '.desktop')
METAINFO = os.path.join(DATA_BUILD, APP_ID + '.metainfo.xml')
SCHEMA = os.path.join(DATA_SRC, APP_ID + '.gschema.xml')
ICON = os.path.join(DATA_SRC, 'icons', 'hicolor', 'scalable', 'apps', APP_ID + '.svg')
SYMBOLIC = os.path.join(DATA_SRC, 'icons', 'hicolor', 'symbolic', 'apps',
                        APP_ID + '-symbolic.svg')
MANIFEST = os.path.join(SOURCE_ROOT, 'flatpak', APP_ID + '.json')

SVG_NS = '{http://www.w3.org/2000/svg}'


@test
def desktop_file_validates():
    check(os.path.isfile(DESKTOP), f'{DESKTOP} was not built')
    rc, out = run(['desktop-file-validate', DESKTOP])
    # desktop-file-validate exits 0 on hints; treat any error or warning line as a failure.
    check(rc == 0 and not re.search(r'\b(error|warning):', out),
          f'desktop-file-validate:\n{out}')


@test
def desktop_file_names_the_app():
    parser = configparser.RawConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(DESKTOP, encoding='utf-8')
    entry = parser['Desktop Entry']
    check(entry.get('Name') == 'Livetape', f'Name is {entry.get("Name")!r}')
    check(entry.get('Icon') == APP_ID, f'Icon is {entry.get("Icon")!r}, not the app id')
    check(entry.get('Exec', '').split()[0] == 'livetape', f'Exec is {entry.get("Exec")!r}')
    for key in ('GenericName', 'Comment', 'Keywords', 'Categories'):
        check(entry.get(key), f'{key} is missing')


@test
def metainfo_validates():
    check(os.path.isfile(METAINFO), f'{METAINFO} was not built')
    rc, out = run(['appstreamcli', 'validate', '--no-net', '--explain', METAINFO])
    check(rc == 0, f'appstreamcli validate:\n{out}')
    check(not re.search(r'^[EW]: ', out, re.M), f'appstreamcli reports problems:\n{out}')


@test
def metainfo_matches_the_project():
    root = ET.parse(METAINFO).getroot()
    check(root.findtext('id') == APP_ID, f'<id> is {root.findtext("id")!r}')
    launchable = root.find("launchable[@type='desktop-id']")
    check(launchable is not None and launchable.text == APP_ID + '.desktop',
          'the launchable is not the desktop file')
    releases = [r.get('version') for r in root.iter('release')]
    check(releases and releases[0] == VERSION,
          f'newest release in metainfo is {releases[:1]}, meson says {VERSION}')
    check(root.find('content_rating') is not None, 'no <content_rating>')
    check(root.find("url[@type='homepage']") is not None, 'no homepage url')


@test
def schema_compiles_strictly():
    rc, out = run(['glib-compile-schemas', '--strict', '--dry-run', DATA_SRC])
    check(rc == 0 and not out.strip(), f'glib-compile-schemas --strict:\n{out}')


@test
def schema_has_the_documented_keys():
    schema_dir = DATA_BUILD
    check(os.path.isfile(os.path.join(schema_dir, 'gschemas.compiled')),
          'gschemas.compiled is not in the build dir')
    rc, out = run(['gsettings', '--schemadir', schema_dir, 'list-recursively', APP_ID],
                  env=dict(os.environ, GSETTINGS_BACKEND='memory'))
    check(rc == 0, f'gsettings list-recursively:\n{out}')
    values = {}
    for line in out.splitlines():
        _, key, value = line.split(' ', 2)
        values[key] = value
    expected = {
        'default-domain': "'live.livetape.local'",
        'ingest-port': '1935',
        'api-listen': "'127.0.0.1:8088'",
        'spool-dir': "''",
        'window-width': '1100',
        'window-height': '720',
        'window-maximized': 'false',
        # The figures README.md promises: callbacks retried for 24 h, slice records kept
        # 90 days and index-file records 180, local recordings never deleted, spool copies
        # kept 7 days, four uploads at a time, no bandwidth cap, multipart above 64 MiB.
        'callback-expiry-hours': 'uint32 24',
        'slice-retention-days': 'uint32 90',
        'index-retention-days': 'uint32 180',
        'spool-retention-days': 'uint32 0',
        'spool-keep-days': 'uint32 7',
        'sync-concurrency': 'uint32 4',
        'sync-bandwidth-limit': 'uint64 0',
        'multipart-threshold': 'uint64 67108864',
    }
    for key, value in expected.items():
        check(values.get(key) == value, f'{key} defaults to {values.get(key)!r}, not {value}')
    check(set(values) == set(expected),
          f'keys without a checked default: {sorted(set(values) - set(expected))}')
    rc, out = run(['gsettings', '--schemadir', schema_dir, 'range', APP_ID, 'ingest-port'],
                  env=dict(os.environ, GSETTINGS_BACKEND='memory'))
    check(rc == 0 and out.split() == ['range', 'i', '1', '65535'],
          f'ingest-port range is {out!r}')
    root = ET.parse(SCHEMA).getroot()
    for key in root.iter('key'):
        check(key.findtext('summary'), f'key {key.get("name")} has no summary')
        check(key.findtext('description'), f'key {key.get("name")} has no description')


@test
def every_schema_key_is_used():
    # A key nothing reads is a setting that promises something and does nothing.
    sources = []
    for sub in ('src/core', 'src/daemon', 'src/gui'):
        directory = os.path.join(SOURCE_ROOT, sub)
        for name in sorted(os.listdir(directory)):
            if name.endswith('.c'):
                with open(os.path.join(directory, name), encoding='utf-8') as f:
                    sources.append(f.read())
    code = '\n'.join(sources)
    names = [key.get('name') for key in ET.parse(SCHEMA).getroot().iter('key')]
    check(len(names) >= 15, f'only {len(names)} keys in the schema')
    unused = [name for name in names if f'"{name}"' not in code]
    check(not unused, f'schema keys that no C file under src/ names: {unused}')


def svg_root(path):
    check(os.path.isfile(path), f'{path} is missing')
    root = ET.parse(path).getroot()
    check(root.tag == SVG_NS + 'svg', f'{path}: root element is {root.tag}')
    return root


@test
def app_icon_is_a_128px_svg():
    root = svg_root(ICON)
    check(root.get('viewBox') == '0 0 128 128', f'viewBox is {root.get("viewBox")!r}')
    check(sum(1 for _ in root.iter()) > 10, 'the icon is nearly empty')


@test
def symbolic_icon_is_16px_and_one_colour():
    root = svg_root(SYMBOLIC)
    check(root.get('viewBox') == '0 0 16 16', f'viewBox is {root.get("viewBox")!r}')
    colours = set()
    for el in root.iter():
        for attr in ('fill', 'stroke'):
            value = el.get(attr)
            if value and value != 'none':
                colours.add(value.lower())
        check(not el.tag.endswith('Gradient'), 'symbolic icons have no gradients')
    check(len(colours) <= 1, f'symbolic icon uses colours {sorted(colours)}')


def manifest_sources(module, base):
    """Yields (path-as-written, resolved path) of every local source of a module tree."""
    for source in module.get('sources', []):
        if isinstance(source, str):
            yield source, os.path.join(base, source)
            continue
        for key in ('path', 'paths'):
            value = source.get(key)
            for p in ([value] if isinstance(value, str) else value or []):
                yield p, os.path.join(base, p)
    for sub in module.get('modules', []):
        if isinstance(sub, str):
            path = os.path.join(base, sub)
            yield sub, path
            if os.path.isfile(path):
                with open(path, encoding='utf-8') as f:
                    yield from manifest_sources(json.load(f), os.path.dirname(path))
        else:
            yield from manifest_sources(sub, base)


@test
def flatpak_manifest_parses():
    with open(MANIFEST, encoding='utf-8') as f:
        manifest = json.load(f)
    check(manifest.get('id', manifest.get('app-id')) == APP_ID, 'manifest id is not the app id')
    check(manifest.get('command') == 'livetape', 'manifest command is not livetape')
    for key in ('runtime', 'runtime-version', 'sdk', 'modules', 'finish-args'):
        check(key in manifest, f'manifest has no {key}')
    names = [m.get('name') if isinstance(m, dict) else m for m in manifest['modules']]
    check(names and names[-1] == 'livetape', f'the app is not the last module: {names}')
    check(any('nginx' in str(n) for n in names), f'no nginx module: {names}')


@test
def flatpak_manifest_names_existing_files():
    with open(MANIFEST, encoding='utf-8') as f:
        manifest = json.load(f)
    base = os.path.dirname(MANIFEST)
    seen = 0
    for written, path in manifest_sources(manifest, base):
        check(os.path.exists(path), f'the manifest names {written}, which does not exist')
        seen += 1
    check(seen > 0, 'the manifest names no local source (the app itself should be one)')


if __name__ == '__main__':
    sys.exit(main())
