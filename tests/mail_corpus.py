"""A generated corpus of malformed and tricky messages (at least 100), for the parser tests.

Each entry is (name, raw bytes). They are built here rather than stored, so each case says
what it tests.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

HEAD = b"From: Erika <erika@example.test>\nTo: shop@example.test\nDate: Thu, 03 Dec 2026 10:00:00 +0100\n"


def _msg(headers: bytes, body: bytes) -> bytes:
    return headers + b"\n" + body


def tricky_messages() -> Iterator[tuple[str, bytes]]:
    # 1. Charsets: declared wrong, unknown, missing, mixed.
    text = "Grüße aus Köln, die Größe passt nicht. Straße 5.".encode
    for declared, encoding in (("us-ascii", "utf-8"), ("utf-8", "latin-1"), ("iso-8859-1", "utf-8"),
                               ("x-unknown-charset", "utf-8"), ("", "cp1252"), ("utf-7", "utf-8"),
                               ("ks_c_5601-1987", "utf-8"), ("windows-1252", "utf-8"), ("utf8", "latin-1"),
                               ("UTF-8\"", "utf-8")):
        charset = f'; charset="{declared}"' if declared else ""
        yield (f"charset-{declared or 'none'}-{encoding}",
               _msg(HEAD + f"Subject: Zeichensatz\nContent-Type: text/plain{charset}\n".encode(), text(encoding)))
    # 2. Boundaries: missing, wrong, never closed, empty, nested clashes, very long.
    for name, ctype, body in (
        ("boundary-missing", b'multipart/mixed', b"--x\nContent-Type: text/plain\n\nhi\n--x--\n"),
        ("boundary-wrong", b'multipart/mixed; boundary="abc"', b"--xyz\n\nhi\n--xyz--\n"),
        ("boundary-unclosed", b'multipart/mixed; boundary="b"', b"--b\nContent-Type: text/plain\n\nhallo"),
        ("boundary-empty", b'multipart/mixed; boundary=""', b"--\n\nhi\n----\n"),
        ("boundary-no-parts", b'multipart/alternative; boundary="b"', b"nur Text ohne Teile\n"),
        ("boundary-clash", b'multipart/mixed; boundary="a"',
         b"--a\nContent-Type: multipart/alternative; boundary=\"a\"\n\n--a\n\ninner\n--a--\n--a--\n"),
        ("boundary-long", b'multipart/mixed; boundary="' + b"x" * 5000 + b'"',
         b"--" + b"x" * 5000 + b"\n\nhi\n--" + b"x" * 5000 + b"--\n"),
        ("boundary-semicolon", b'multipart/mixed; boundary=;;;', b"--;;;\n\nhi\n"),
    ):
        yield name, _msg(HEAD + b"Subject: Grenzen\nMIME-Version: 1.0\nContent-Type: " + ctype + b"\n", body)
    # 3. RFC 2231 name* parameters and odd filenames.
    for index, disposition in enumerate((
        b"attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf",
        b"attachment; filename*0*=UTF-8''Rech; filename*1*=nung.pdf",
        b"attachment; filename*=iso-8859-1'de'Gr%F6%DFe.txt",
        b"attachment; filename*=unknown''x%FF%FE.bin",
        b'attachment; filename="=?UTF-8?B?UmVjaG51bmcucGRm?="',
        b'attachment; filename="../../etc/passwd"',
        b'attachment; filename="\x1b]8;;http://evil\x07x.pdf"',
        b"attachment; filename=",
        b"attachment; filename*=''",
        b"attachment; filename*0=a; filename*2=c",
    )):
        yield (f"filename-{index}",
               _msg(HEAD + b'Subject: Anhang\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n',
                    b"--b\nContent-Type: text/plain\n\nsiehe Anhang\n--b\nContent-Type: application/pdf\n"
                    b"Content-Transfer-Encoding: base64\nContent-Disposition: " + disposition + b"\n\n"
                    + base64.b64encode(b"%PDF-1.4 test") + b"\n--b--\n"))
    # 4. Address headers: unclosed quotes, trailing commas, groups, garbage.
    for index, to in enumerate((b'To: "', b"To: a@example.test,", b"To: ,,,,", b'To: "Erika, M" <e@x.de>,, ',
                                b"To: Gruppe: a@x.de, b@y.de;", b"To: <>", b"To: @@@", b'To: "\\"',
                                b"To: " + b"a@b.c, " * 2000, b"To: =?utf-8?q?M=C3=BCller?= <m@x.de>")):
        yield f"address-{index}", _msg(HEAD.replace(b"To: shop@example.test\n", b"") + to + b"\nSubject: x\n", b"hi")
    # 5. Encoded-word tricks.
    for index, subject in enumerate((
        b"=?UTF-8?B?R3LDvMOfZQ==?=", b"=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= =?UTF-8?Q?_aus_K=C3=B6ln?=",
        b"=?UTF-8?B?invalid base64!!?=", b"=?unknown?Q?abc?=", b"=?UTF-8?X?abc?=", b"=?UTF-8?Q?unterminated",
        b"=??Q?empty_charset?=", b"=?iso-8859-1?Q?Fr\xf6sche?=", b"=?UTF-8?B?" + base64.b64encode(b"\xff\xfe") + b"?=",
        b"Re: AW: WG: =?utf-8?q?R=C3=BCcksendung?=", b"=?UTF-8?Q?" + b"=41" * 5000 + b"?=",
        b"=?UTF-8?Q?[bold]x[/]?= \x1b[2J", b"\xe4\xf6\xfc raw latin-1", b"\xc3\xa4\xc3\xb6 raw utf-8",
    )):
        yield f"encoded-word-{index}", _msg(HEAD + b"Subject: " + subject + b"\n", b"Text")
    # 6. Pathological structure and sizes.
    depth = 2000
    nested = b"".join(f'--b{i}\nContent-Type: multipart/mixed; boundary="b{i + 1}"\n\n'.encode() for i in range(depth))
    yield "nesting-2000", _msg(HEAD + b'Subject: tief\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b0"\n',
                               nested + f"--b{depth}\nContent-Type: text/plain\n\ninnen\n".encode())
    rfc822 = b"".join(b"Content-Type: message/rfc822\n\nSubject: inner\n" for _ in range(500))
    yield "rfc822-500", _msg(HEAD + b"Subject: verschachtelt\nMIME-Version: 1.0\n", rfc822 + b"\ntext")
    yield "semicolons-200000", _msg(HEAD + b"Subject: x\nContent-Type: text/plain" + b";" * 200_000 + b"\n", b"ok")
    yield "header-1mb", _msg(HEAD + b"X-Long: " + b"a" * 1_000_000 + b"\nSubject: lang\n", b"ok")
    yield "many-headers", _msg(HEAD + b"".join(b"X-H%d: v\n" % i for i in range(20_000)), b"ok")
    yield "folded-forever", _msg(HEAD + b"Subject: a\n" + b" b\n" * 50_000, b"ok")
    yield "no-headers", b"Nur ein Text ohne Kopfzeilen.\nZweite Zeile."
    yield "no-separator", HEAD + b"Subject: ohne Leerzeile"
    yield "empty", b""
    yield "only-newlines", b"\n\n\n\n"
    yield "nul-bytes", _msg(HEAD + b"Subject: \x00nul\n", b"a\x00b\x00c")
    yield "crlf-mixed", (HEAD + b"Subject: crlf\r\n\r\nZeile 1\r\nZeile 2\rZeile 3\n").replace(b"\n", b"\r\n", 2)
    yield "binary-body", _msg(HEAD + b"Subject: bin\nContent-Transfer-Encoding: binary\n", bytes(range(256)) * 40)
    yield "bad-base64", _msg(HEAD + b"Subject: b64\nContent-Transfer-Encoding: base64\n", b"!!!not base64###")
    yield "bad-qp", _msg(HEAD + b"Subject: qp\nContent-Transfer-Encoding: quoted-printable\n", b"=ZZ=\n=")
    yield "unknown-cte", _msg(HEAD + b"Subject: cte\nContent-Transfer-Encoding: x-weird\n", b"text")
    yield "two-content-types", _msg(HEAD + b"Subject: 2ct\nContent-Type: text/html\nContent-Type: text/plain\n",
                                    b"<b>x</b>")
    yield "html-only-remote", _msg(HEAD + b"Subject: html\nContent-Type: text/html; charset=utf-8\n",
                                   b'<p>Hallo<img src="https://tracker.example/p.gif"><script>fetch("x")</script>'
                                   b'<link rel=stylesheet href="https://evil/css"></p>')
    yield "html-huge", _msg(HEAD + b"Subject: html\nContent-Type: text/html\n", b"<div>" * 20_000 + b"x")
    yield "combining-marks", _msg(HEAD + b"Subject: z\n", ("a" + "\u0301" * 100_000).encode())
    yield "long-line", _msg(HEAD + b"Subject: lang\n", b"x" * 2_000_000)
    # 7. Message-IDs and references: missing, duplicate, loops, garbage.
    for index, ids in enumerate((
        b"", b"Message-ID:\n", b"Message-ID: <>\n", b"Message-ID: not-an-id\n", b"Message-ID: <a@b>\nMessage-ID: <c@d>\n",
        b"Message-ID: <dup@example.test>\n", b"Message-ID: <dup@example.test>\n",
        b"Message-ID: <loop-1@x>\nIn-Reply-To: <loop-2@x>\nReferences: <loop-2@x>\n",
        b"Message-ID: <loop-2@x>\nIn-Reply-To: <loop-1@x>\nReferences: <loop-1@x>\n",
        b"Message-ID: <self@x>\nIn-Reply-To: <self@x>\nReferences: <self@x> <self@x>\n",
        b"Message-ID: <r@x>\nReferences: " + b" ".join(b"<ref%d@x>" % i for i in range(5000)) + b"\n",
        b"Message-ID: <weird id with spaces @ host>\n", b"Message-ID: <" + b"a" * 1000 + b"@x>\n",
        b"Message-ID: <m@x>\nIn-Reply-To: garbage <<>> <ok@x>\n",
    )):
        yield f"ids-{index}", _msg(HEAD + ids + b"Subject: ids\n", b"Text")
    # 8. Quoted history in German and English, as buyers' mail clients write it.
    for index, quote in enumerate((
        "Am 03.12.2026 um 09:12 schrieb Lindenhof Service <service@example.test>:\n> Ihre Bestellung\n",
        "-----Ursprüngliche Nachricht-----\nVon: Service\nGesendet: Mittwoch\n",
        "On Wed, Dec 2, 2026 at 9:00 AM Shop <s@example.test> wrote:\n> hello\n",
        "Von: Lindenhof Service <s@x.de>\nGesendet: Dienstag, 1. Dezember 2026 10:00\nAn: Erika\n",
        "> zitiert 1\n> zitiert 2\n",
        "-------- Weitergeleitete Nachricht --------\nBetreff: x\n",
    )):
        yield f"quote-{index}", _msg(HEAD + b"Subject: Re: Paket\n", f"Neue Antwort.\n\n{quote}".encode())


def more_messages() -> Iterator[tuple[str, bytes]]:
    yield "mbox-from-line", b"From erika@example.test Thu Dec  3 10:00:00 2026\n" + HEAD + b"Subject: mbox\n\nText"
    yield "header-space-before-colon", b"Subject : x\n" + HEAD + b"\nText"
    yield "header-8bit-name", HEAD + b"X-Gr\xfc\xdfe: 1\nSubject: x\n\nText"
    yield "date-garbage", HEAD.replace(b"Date: Thu, 03 Dec 2026 10:00:00 +0100", b"Date: 32 Foo 99999 27:99") + b"\nx"
    yield "date-far-future", HEAD.replace(b"2026", b"9999") + b"\nx"
    yield "utf16-body", _msg(HEAD + b"Subject: u16\nContent-Type: text/plain; charset=utf-16\n",
                             "Grüße".encode("utf-16"))
    yield "base64-utf8-attachment-name", _msg(
        HEAD + b'Subject: a\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="z"\n',
        b"--z\nContent-Type: image/png; name=\"=?UTF-8?B?Rm90byBkZXMgU2NoYWRlbnMucG5n?=\"\n"
        b"Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--z--\n")
    yield "alternative-html-first", _msg(
        HEAD + b'Subject: alt\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="y"\n',
        b"--y\nContent-Type: text/html\n\n<p>HTML</p>\n--y\nContent-Type: text/plain\n\nPlain\n--y--\n")
    yield "signed-smime", _msg(
        HEAD + b'Subject: sig\nMIME-Version: 1.0\nContent-Type: multipart/signed; protocol="application/pkcs7-signature"; '
               b'boundary="s"\n',
        b"--s\nContent-Type: text/plain\n\nsigned text\n--s\nContent-Type: application/pkcs7-signature\n\nMIIB\n--s--\n")
    yield "tnef-winmail", _msg(
        HEAD + b'Subject: tnef\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="t"\n',
        b"--t\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\n\n\x78\x9f\x3e\x22\n--t--\n")
    yield "bidi-filename", _msg(
        HEAD + b'Subject: f\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="q"\n',
        "--q\nContent-Type: application/octet-stream\nContent-Disposition: attachment; "
        "filename*=UTF-8''invoice%E2%80%AEfdp.exe\n\nMZ\n--q--\n".encode())


def all_messages() -> Iterator[tuple[str, bytes]]:
    yield from tricky_messages()
    yield from more_messages()


def count() -> int:
    return sum(1 for _ in all_messages())
