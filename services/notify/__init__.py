"""Alert notifications (SPEC section 11): agencies' webhook subscriptions, signed deliveries."""
