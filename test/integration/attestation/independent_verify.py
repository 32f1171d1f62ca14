"""Independent check of a carbonscale attestation, sharing no code with the operator.

    python independent_verify.py ENVELOPE.dsse.json PUBLIC_KEY.pem AUDIT_DIR

The DSSE signature is verified by securesystemslib (secure-systems-lab, the DSSE reference implementation's
home) with an Ed25519 key loaded by pyca/cryptography; the key id is recomputed here as the hex SHA-256 of the
key's SubjectPublicKeyInfo DER (docs/audit.md, "Signing keys"). Then the in-toto Statement v1 shape and every
subject's SHA-256 against the file under AUDIT_DIR are checked with hashlib. Exit 0 when all hold, 1 otherwise
(the reason on stderr).
"""
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import serialization
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey

PREDICATE_TYPE = "https://carbonscale.dev/attestation/inference-emissions/v1"


def fail(msg):
    print(f"FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def main(envelope_path, key_path, audit_dir):
    with open(key_path, "rb") as f:
        public = serialization.load_pem_public_key(f.read())
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    key = SSlibKey.from_crypto(public, keyid=hashlib.sha256(der).hexdigest())
    with open(envelope_path, "rb") as f:
        envelope = Envelope.from_dict(json.load(f))
    try:
        envelope.verify([key], 1)
    except VerificationError as e:
        fail(f"signature: {e}")
    if envelope.payload_type != "application/vnd.in-toto+json":
        fail(f"payloadType {envelope.payload_type}")
    statement = json.loads(envelope.payload)
    if statement.get("_type") != "https://in-toto.io/Statement/v1":
        fail(f"_type {statement.get('_type')}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        fail(f"predicateType {statement.get('predicateType')}")
    subjects = statement.get("subject") or []
    if not subjects:
        fail("no subjects")
    for s in subjects:
        path = os.path.join(audit_dir, s["name"])
        if not os.path.isfile(path):
            fail(f"subject {s['name']}: no such file")
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != s["digest"]["sha256"]:
            fail(f"subject {s['name']}: sha256 {digest} != attested {s['digest']['sha256']}")
    print(f"OK: signature by {key.keyid[:16]}, {len(subjects)} subjects match")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(*sys.argv[1:])
