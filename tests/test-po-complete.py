#!/usr/bin/env python3
# test-po-complete.py: keeps the translations complete. Every file with translatable
# strings is in po/POTFILES.in; a template freshly extracted from those files (same
# xgettext arguments as meson's "glib" preset) has every message translated, not fuzzy, in
# each language of po/LINGUAS (zh_CN at least), with matching printf formats; and the
# translations reach the built desktop file and metainfo. TAP output, suite core.
#
#   test-po-complete.py SOURCE_ROOT BUILD_ROOT APP_ID

import glob
import os
import re
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taplib  # noqa: E402
from taplib import check, run, test  # noqa: E402

SOURCE_ROOT, BUILD_ROOT, APP_ID = sys.argv[1:4]
PO_DIR = os.path.join(SOURCE_ROOT, 'po')
POTFILES = os.path.join(PO_DIR, 'POTFILES.in')
REQUIRED_LANGUAGES = ['zh_CN']

# meson's i18n.gettext(preset: 'glib') arguments (mesonbuild/modules/i18n.py).
XGETTEXT_ARGS = [
    '--from-code=UTF-8', '--add-comments',
    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3', '--keyword=g_dpgettext2:2c,3',
    '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format', '--flag=NC_:2:pass-c-format',
    '--flag=g_dngettext:2:pass-c-format', '--flag=g_strdup_printf:1:c-format',
    '--flag=g_string_printf:2:c-format', '--flag=g_string_append_printf:2:c-format',
    '--flag=g_error_new:3:c-format', '--flag=g_set_error:4:c-format',
    '--flag=g_markup_printf_escaped:1:c-format', '--flag=g_log:3:c-format',
    '--flag=g_print:1:c-format', '--flag=g_printerr:1:c-format',
    '--flag=g_printf:1:c-format', '--flag=g_fprintf:2:c-format',
    '--flag=g_sprintf:2:c-format', '--flag=g_snprintf:3:c-format',
]

# What marks a source file as translatable.
C_MARKERS = re.compile(r'\b(_|N_|C_|NC_|g_dngettext|g_dpgettext2|ngettext)\s*\(\s*"')
UI_MARKER = re.compile(r'translatable\s*=\s*"(yes|true|1)"')

def potfiles():
    with open(POTFILES, encoding='utf-8') as f:
        return [line.strip() for line in f
                if line.strip() and not line.lstrip().startswith('#')]


def languages():
    with open(os.path.join(PO_DIR, 'LINGUAS'), encoding='utf-8') as f:
        return [w for line in f if not line.lstrip().startswith('#') for w in line.split()]


TMP = tempfile.mkdtemp(prefix='lt-po-test-')
TEMPLATE = os.path.join(TMP, 'livetape.pot')


@test
def linguas_lists_the_required_languages():
    langs = languages()
    for lang in REQUIRED_LANGUAGES:
        check(lang in langs, f'po/LINGUAS does not list {lang}')
    for lang in langs:
        check(os.path.isfile(os.path.join(PO_DIR, lang + '.po')), f'po/{lang}.po is missing')


@test
def potfiles_is_sorted_and_exists():
    files = potfiles()
    check(files == sorted(files), 'po/POTFILES.in is not sorted')
    check(len(files) == len(set(files)), 'po/POTFILES.in lists a file twice')
    for path in files:
        check(os.path.isfile(os.path.join(SOURCE_ROOT, path)),
              f'po/POTFILES.in lists {path}, which does not exist')


@test
def potfiles_lists_every_translatable_file():
    listed = set(potfiles())
    missing = []
    candidates = glob.glob('src/**/*.c', root_dir=SOURCE_ROOT, recursive=True)
    for path in sorted(candidates):
        with open(os.path.join(SOURCE_ROOT, path), encoding='utf-8') as f:
            if C_MARKERS.search(f.read()) and path not in listed:
                missing.append(path)
    for path in sorted(glob.glob('ui/**/*.ui', root_dir=SOURCE_ROOT, recursive=True)):
        with open(os.path.join(SOURCE_ROOT, path), encoding='utf-8') as f:
            if UI_MARKER.search(f.read()) and path not in listed:
                missing.append(path)
    for pattern in ('data/*.desktop.in', 'data/*.metainfo.xml.in', 'data/*.gschema.xml'):
        for path in sorted(glob.glob(pattern, root_dir=SOURCE_ROOT)):
            if path not in listed:
                missing.append(path)
    check(not missing, 'translatable files missing from po/POTFILES.in:\n' + '\n'.join(missing))


@test
def potfiles_lists_no_file_without_strings():
    listed = potfiles()
    check(any(p.endswith('.c') for p in listed) and any(p.endswith('.ui') for p in listed),
          'po/POTFILES.in lists no C file or no .ui file')
    idle = []
    for path in listed:
        marker = C_MARKERS if path.endswith('.c') else UI_MARKER if path.endswith('.ui') else None
        if marker is None:
            continue
        with open(os.path.join(SOURCE_ROOT, path), encoding='utf-8') as f:
            if not marker.search(f.read()):
                idle.append(path)
    check(not idle, 'po/POTFILES.in lists files without translatable strings:\n' +
          '\n'.join(idle))


@test
def template_extracts():
    rc, out = run(['xgettext', *XGETTEXT_ARGS, '--package-name=livetape',
                   f'--directory={SOURCE_ROOT}', f'--files-from={POTFILES}',
                   f'--output={TEMPLATE}'])
    check(rc == 0, f'xgettext:\n{out}')
    check(os.path.isfile(TEMPLATE), 'xgettext wrote no template (no translatable strings?)')


def complete(lang):
    check(os.path.isfile(TEMPLATE), 'no template (see the extraction test)')
    po = os.path.join(PO_DIR, lang + '.po')
    rc, out = run(['msgfmt', '--check', '--output-file=/dev/null', po])
    check(rc == 0, f'msgfmt --check {lang}.po:\n{out}')
    # Merging against the fresh template brings in its c-format flags, so --check also
    # compares printf formats; with fuzzy matching off, a new string shows as untranslated.
    merged = os.path.join(TMP, lang + '.merged.po')
    rc, out = run(['msgmerge', '--quiet', '--no-fuzzy-matching', f'--output-file={merged}',
                   po, TEMPLATE])
    check(rc == 0, f'msgmerge:\n{out}')
    rc, out = run(['msgfmt', '--check', '--statistics', '--output-file=/dev/null', merged],
                  env=dict(os.environ, LC_ALL='C'))
    check(rc == 0, f'msgfmt --check (formats against the template):\n{out}')
    stats = [line for line in out.splitlines() if 'translated message' in line]
    check(stats, f'msgfmt printed no statistics:\n{out}')
    problems = []
    for what, flag in (('untranslated', '--untranslated'), ('fuzzy', '--only-fuzzy')):
        rc, listing = run(['msgattrib', flag, '--no-obsolete', '--no-wrap', merged])
        ids = re.findall(r'^msgid "(.+)"$', listing, re.M)
        problems += [f'{what}: {m}' for m in ids]
    check(not problems, f'{lang}.po is incomplete ({stats[-1]}):\n' + '\n'.join(problems))
    check(re.fullmatch(r'\d+ translated messages?\.', stats[-1].strip()),
          f'{lang}.po is incomplete: {stats[-1]}')


@test
def zh_CN_translates_every_message():
    'zh_CN translates every message'
    complete('zh_CN')


@test
def translations_reach_the_desktop_file():
    path = os.path.join(BUILD_ROOT, 'data', APP_ID + '.desktop')
    check(os.path.isfile(path), f'{path} was not built')
    with open(path, encoding='utf-8') as f:
        text = f.read()
    for lang in REQUIRED_LANGUAGES:
        for key in ('Name', 'GenericName', 'Comment', 'Keywords'):
            check(re.search(rf'^{key}\[{lang}\]=\S', text, re.M),
                  f'the built desktop file has no {key}[{lang}]')


@test
def translations_reach_the_metainfo():
    path = os.path.join(BUILD_ROOT, 'data', APP_ID + '.metainfo.xml')
    check(os.path.isfile(path), f'{path} was not built')
    root = ET.parse(path).getroot()
    lang_attr = '{http://www.w3.org/XML/1998/namespace}lang'
    for lang in REQUIRED_LANGUAGES:
        summaries = [s for s in root.findall('summary') if s.get(lang_attr) == lang]
        check(summaries and summaries[0].text, f'the built metainfo has no {lang} summary')
        paragraphs = [p for p in root.iter('p') if p.get(lang_attr) == lang]
        check(paragraphs, f'the built metainfo has no {lang} description')


def main():
    status = taplib.main()
    shutil.rmtree(TMP, ignore_errors=True)
    return status


if __name__ == '__main__':
    sys.exit(main())
