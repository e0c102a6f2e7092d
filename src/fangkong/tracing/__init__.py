"""Case investigation and tracing (流调溯源): cases, exposures, contacts, chains, source tracing, 协查."""
