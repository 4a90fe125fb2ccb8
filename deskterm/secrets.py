"""Secrets come from the OS keyring only; detect the cases where there is none.

On a headless Linux box keyring picks its `fail` backend (every call raises), and with
keyrings.alt installed it may silently pick a plain-text file. deskterm refuses both and
says what to do. keyring is imported lazily: it is slow to import and only needed here.
"""

from __future__ import annotations

from dataclasses import dataclass

_INSECURE_BACKENDS = ("PlaintextKeyring", "EncryptedKeyring", "Windows.RegistryKeyring")


class SecretError(Exception):
    """A secret cannot be read; one line saying why and what to do."""


@dataclass(frozen=True, slots=True)
class KeyringState:
    usable: bool
    backend: str
    advice: str


def keyring_state() -> KeyringState:
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring):
        return KeyringState(False, name, "no keyring backend: on a headless machine run deskterm inside "
                                         "'dbus-run-session -- sh' with gnome-keyring-daemon unlocked, "
                                         "or install a keyring backend")
    if any(marker in name for marker in _INSECURE_BACKENDS):
        return KeyringState(False, name, "keyring backend stores secrets in a plain file; configure a real "
                                         "keyring (Secret Service, KWallet, macOS Keychain)")
    return KeyringState(True, name, "")


def get_secret(reference: str) -> str:
    """Resolve `keyring:<service>/<user>` to the stored secret."""
    if not reference.startswith("keyring:") or "/" not in reference:
        raise SecretError(f"{reference!r} is not a keyring reference (keyring:<service>/<user>)")
    service, user = reference[len("keyring:"):].split("/", 1)
    state = keyring_state()
    if not state.usable:
        raise SecretError(state.advice)
    import keyring
    from keyring.errors import KeyringError

    try:
        value = keyring.get_password(service, user)
    except KeyringError as exc:
        raise SecretError(f"keyring refused {service}/{user}: {type(exc).__name__} (locked?)") from None
    if value is None:
        raise SecretError(f"no secret stored for {service}/{user}; run: python -m keyring set {service} {user}")
    return value
