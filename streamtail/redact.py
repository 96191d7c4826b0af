"""Redaction of credentials in what `--debug` prints: headers, URLs, bodies, and known secrets.

Two layers, because one missed case would leak a key into a terminal scrollback or a CI log:

1. structure: the `Authorization` header keeps its algorithm, scope and signed headers but loses
   its signature; security-token headers and presigned-URL query parameters are replaced; JSON,
   XML and form bodies lose the values of secret-looking fields (STS and SSO return credentials in
   bodies); every URL in any line (the endpoint's in each request, a proxy's in an error) loses
   its userinfo (`user:password@`) and the values of its secret-looking query parameters;
2. literal: every secret the session actually holds (secret key, session token) and every
   signature seen is replaced wherever it appears, whatever the format around it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "<redacted>"

#: header names whose whole value is a secret
_SECRET_HEADERS = re.compile(
    r"(?i)^(x-amz-security-token|x-amz-server-side-encryption-customer-key.*|cookie|set-cookie|"
    r"proxy-authorization|x-api-key|.*token.*|.*secret.*|.*password.*)$"
)
#: field names (JSON keys, XML elements, form and query keys) whose value is a secret
_SECRET_FIELDS = re.compile(
    r"(?i)^(secretaccesskey|secret_access_key|secretkey|sessiontoken|session_token|"
    r"securitytoken|x-amz-security-token|accesstoken|access_token|refreshtoken|refresh_token|"
    r"idtoken|id_token|clientsecret|client_secret|password|tokencode|x-amz-signature|"
    r"signature|authorization|privatekey)$"
)
#: field names whose value is an access key id: shown with the middle masked
_KEY_ID_FIELDS = re.compile(r"(?i)^(accesskeyid|access_key_id|awsaccesskeyid)$")
_SIGNATURE = re.compile(r"(Signature=)([0-9a-fA-F]+)")
_CREDENTIAL = re.compile(r"(Credential=)([A-Z0-9]{8,})(/)")
_XML_FIELD = re.compile(r"<([A-Za-z_]+)>([^<]*)</\1>")
#: a URL anywhere in a text: scheme, userinfo (user:password@), the rest, the query string
_URL = re.compile(
    r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#@\"'<>]*@)?([^\s?#\"'<>]*)(\?[^\s#\"'<>]*)?"
)
#: query parameter names that hold a secret in an endpoint's or a proxy's URL (`?token=...`)
_SECRET_QUERY = re.compile(
    r"(?i)(token|secret|passw|pwd|signature|sig$|auth|session|credential|api[-_]?key|"
    r"access[-_]?key|private)"
)


def mask_key_id(key_id: str) -> str:
    """`AKIAIOSFODNN7EXAMPLE` -> `AKIA…MPLE`: enough to tell keys apart, not to use one."""
    return key_id if len(key_id) <= 8 else f"{key_id[:4]}…{key_id[-4:]}"


class Redactor:
    """Redacts text for the debug log; remembers secrets to scrub them anywhere (thread-safe)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self.remember(*secrets)

    def remember(self, *secrets: str | None) -> None:
        """Secrets to replace wherever they appear (values too short to be secrets are ignored)."""
        with self._lock:
            self._secrets.update(s for s in secrets if s and len(s) >= 8)

    def scrub(self, text: str) -> str:
        """`text` with every remembered secret replaced (longest first: tokens hold keys), and
        every URL in it without its userinfo (`user:password@`) and the values of its
        secret-looking query parameters (an endpoint's or a proxy's `?token=...`)."""
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return scrub_urls(text)

    def authorization(self, value: str) -> str:
        """A SigV4 `Authorization` header without its signature, the key id masked."""
        for match in _SIGNATURE.finditer(value):
            self.remember(match.group(2))
        value = _SIGNATURE.sub(rf"\g<1>{REDACTED}", value)
        return _CREDENTIAL.sub(lambda m: m.group(1) + mask_key_id(m.group(2)) + m.group(3), value)

    def headers(self, headers: Mapping[str, Any]) -> dict[str, str]:
        shown: dict[str, str] = {}
        for name, raw in headers.items():
            value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            if name.lower() == "authorization":
                shown[name] = self.authorization(value)
            elif _SECRET_HEADERS.match(name):
                self.remember(value)
                shown[name] = REDACTED
            else:
                shown[name] = self.scrub(value)
        return shown

    def _pairs(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        out = []
        for key, value in pairs:
            if _SECRET_FIELDS.match(key):
                self.remember(value)
                out.append((key, REDACTED))
            elif _KEY_ID_FIELDS.match(key) or key.lower() == "x-amz-credential":
                head, sep, rest = value.partition("/")
                out.append((key, mask_key_id(head) + sep + rest))
            else:
                out.append((key, value))
        return out

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        if not parts.query:
            return self.scrub(url)
        query = urlencode(self._pairs(parse_qsl(parts.query, keep_blank_values=True)), safe="<>/…")
        return self.scrub(urlunsplit(parts._replace(query=query)))

    def _json(self, value: Any) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if _SECRET_FIELDS.match(str(key)) and not isinstance(item, dict | list):
                    self.remember(str(item))
                    out[key] = REDACTED
                elif _KEY_ID_FIELDS.match(str(key)) and isinstance(item, str):
                    out[key] = mask_key_id(item)
                else:
                    out[key] = self._json(item)
            return out
        if isinstance(value, list):
            return [self._json(item) for item in value]
        return value

    def _xml_field(self, match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        if _SECRET_FIELDS.match(name):
            self.remember(value)
            return f"<{name}>{REDACTED}</{name}>"
        if _KEY_ID_FIELDS.match(name):
            return f"<{name}>{mask_key_id(value)}</{name}>"
        return match.group(0)

    def body(self, body: bytes | str | None) -> str:
        """A request or response body as text with secret fields and known secrets redacted."""
        if body is None:
            return ""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        stripped = text.lstrip()
        if stripped.startswith(("{", "[")):
            try:
                parsed = json.loads(text)
            except ValueError:
                pass
            else:
                text = json.dumps(self._json(parsed), ensure_ascii=False, separators=(",", ":"))
        elif stripped.startswith("<"):
            text = _XML_FIELD.sub(self._xml_field, text)
        elif "=" in text and " " not in text.strip():
            pairs = parse_qsl(text, keep_blank_values=True)
            if pairs:
                text = urlencode(self._pairs(pairs), safe="<>/…")
        return self.scrub(text)


def scrub_urls(text: str) -> str:
    """Every URL in `text` without its userinfo (`user:password@`) and the values of its
    secret-looking query parameters: for `--debug`'s lines and for every error and warning line,
    which can quote the endpoint URL the user gave (a connection error does)."""
    return _URL.sub(_url_in_text, text) if "://" in text else text


def _url_in_text(match: re.Match[str]) -> str:
    scheme, userinfo, rest, query = match.group(1, 2, 3, 4)
    shown = scheme + (f"{REDACTED}@" if userinfo else "") + rest
    if not query:
        return shown
    pairs = []
    for pair in query[1:].split("&"):
        name, sep, value = pair.partition("=")
        secret = sep and value and value != REDACTED
        if secret and (_SECRET_QUERY.search(name) or _SECRET_FIELDS.match(name)):
            value = REDACTED
        pairs.append(name + sep + value)
    return shown + "?" + "&".join(pairs)
