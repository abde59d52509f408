//! The sealed envelope: HPKE (RFC 9180) base mode, X25519 + HKDF-SHA256 + ChaCha20-Poly1305.
