"""Single sign-on with OpenID Connect (authorization code flow, PKCE), off unless an issuer is set.

One job per module:

- ``config``: what is configured, and whether a URL may be used to reach the provider.
- ``http``: JSON to and from the provider, with a timeout, never following redirects.
- ``discovery``: the provider's endpoints and signing keys, fetched once and cached.
- ``tokens``: the ID token's signature and claims.
- ``flow``: the authorization request (state, nonce, PKCE) and the code's exchange.
- ``provisioning``: the Rampart user of an identity (issuer + subject), made on first login.
- ``team_sync``: team roles from the provider's groups.
- ``sign_in``: the above in order, auditing every failure; ``errors``: what can go wrong.
- ``checks``: the configuration's mistakes, reported at start-up.
"""
