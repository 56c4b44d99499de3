#!/usr/bin/env python3
"""Lists the @tr strings of ui/**/*.slint with their context (the component they are in) and
writes en/LC_MESSAGES/kiosk-ui.po: each string gets its English from en.py (one entry per
Chinese string, whatever the context), else keeps the translation already in the .po; new
strings without English are left empty and reported. `--check` changes nothing and fails when
a string is untranslated or unused. Usage: extract.py [--check]
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / 'resources/i18n/en/LC_MESSAGES/kiosk-ui.po'
COMPONENT = re.compile(r'^\s*(?:export\s+)?component\s+([A-Za-z_][\w-]*)')
TR = re.compile(r'@tr\(\s*"((?:[^"\\]|\\.)*)"')


def strings():
    found = []
    for path in sorted((ROOT / 'ui').rglob('*.slint')):
        ctx = None
        for line in path.read_text(encoding='utf-8').splitlines():
            m = COMPONENT.match(line)
            if m:
                ctx = m.group(1)
            for t in TR.finditer(line):
                key = (ctx, t.group(1))
                if key not in found:
                    found.append(key)
    return found


def read_po():
    entries = {}
    ctx = msgid = None
    for line in PO.read_text(encoding='utf-8').splitlines():
        if line.startswith('msgctxt '):
            ctx = line[9:-1]
        elif line.startswith('msgid '):
            msgid = line[7:-1]
        elif line.startswith('msgstr ') and msgid:
            entries[(ctx, msgid)] = line[8:-1]
            ctx = msgid = None
    return entries


def english():
    table = {}
    exec((Path(__file__).parent / 'en.py').read_text(encoding='utf-8'), table)
    return {k.replace('"', '\\"'): v.replace('"', '\\"') for k, v in table['EN'].items()}


def main():
    used = strings()
    known = read_po()
    if '--check' not in sys.argv:
        en = english()
        for ctx, msgid in used:
            if msgid in en:
                known[(ctx, msgid)] = en[msgid]
    missing = [k for k in used if not known.get(k)]
    unused = [k for k in known if k not in used]
    if '--check' in sys.argv:
        for k in missing:
            print('untranslated:', k)
        for k in unused:
            print('unused:', k)
        sys.exit(1 if missing or unused else 0)
    out = ['# English strings for the kiosk screens. The source strings in ui/*.slint are Chinese.',
           '# Regenerate the list with resources/i18n/extract.py; it keeps the translations.',
           'msgid ""', 'msgstr ""',
           '"Content-Type: text/plain; charset=UTF-8\\n"',
           '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"',
           '"Language: en\\n"', '']
    for ctx, msgid in used:
        out += [f'msgctxt "{ctx}"', f'msgid "{msgid}"', f'msgstr "{known.get((ctx, msgid), "")}"', '']
    PO.write_text('\n'.join(out), encoding='utf-8')
    for k in unused:
        print('dropped unused:', k)
    print(f'{len(used)} strings, {len(missing)} untranslated')


if __name__ == '__main__':
    main()
