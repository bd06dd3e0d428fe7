"""The evolution: the store (designs, verifications, sessions, events), selection and the ladder budget (pure
functions), the designer interface with the symbolic designer, and the orchestrator that runs designer and
verifier workers (DESIGN §7)."""
