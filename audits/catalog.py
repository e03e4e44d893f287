"""The verdict text of every check, kept apart from the logic: area, default severity, Launch Ready item,
a one-line title, the business risk in plain English, and the exact fix. Placeholders in braces are
filled from the finding's params (missing ones are shown as "…")."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from audits.findings import Area, Finding, Item, LaunchVerdict, Severity
from launchready.formatting import possessive
from launchready.models import Route

B, H, M, L, INFO = Severity.BLOCKER, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO


@dataclass(frozen=True)
class Verdict:
    area: Area
    severity: Severity
    item: Item
    title: str
    explanation: str
    fix: str


def _v(area: Area, severity: Severity, item: Item, title: str, explanation: str, fix: str) -> Verdict:
    return Verdict(area, severity, item, title, explanation, fix)


D, T, R, RT, E, HD, EM, S, A = (
    Area.DNS,
    Area.TLS,
    Area.REDIRECTS,
    Area.ROUTES,
    Area.EDGE,
    Area.HEADERS,
    Area.EMAIL,
    Area.SECRETS,
    Area.AUDIT,
)

# How to restrict a Google API key, the same for one in a public bundle and one in a repository.
GOOGLE_KEY_RESTRICTION = (
    "In the Google Cloud console open APIs & Services → Credentials → (this key). Under Application restrictions "
    "choose Websites (HTTP referrers) and list the site's addresses (https://www.yourdomain.com/*); for a mobile "
    "app's key choose its Android or iOS app, for a server's key its IP addresses. Under API restrictions choose "
    "Restrict key and tick only the APIs the app calls (the Maps JavaScript API and the Places API, for example). "
    "Then set a budget alert under Billing → Budgets & alerts. If the key was never meant to be public (Gemini, "
    "server-side APIs), rotate it instead: {rotation}"
)
FIREBASE_KEY_RESTRICTION = (
    "In the Google Cloud console open APIs & Services → Credentials → Browser key (auto created by Firebase). "
    "Under API restrictions choose Restrict key and tick only the Firebase APIs the app uses (Identity Toolkit API, "
    "Token Service API, Firebase Installations API, Cloud Firestore API, Firebase Realtime Database API, Cloud "
    "Storage for Firebase API). Under Application restrictions choose Websites (HTTP referrers) and list the app's "
    "domains, your-project.firebaseapp.com included for sign-in. In the Firebase console turn on App Check for the "
    "app and enforce it, and check that the Firestore, Realtime Database and Storage security rules let nobody in "
    "without signing in. If someone else has used the key, replace it: {rotation}"
)

# A failing journey's fix: the run's own advice (monitoring/journey_explain.py), then how it is seen fixed.
JOURNEY_FIX = (
    "{fix}\nThen run the journey again from the client's journeys page: the next run that passes marks it fixed."
)

CATALOG: dict[str, Verdict] = {
    # --- Domain and DNS ------------------------------------------------------------------------
    "dns.host.missing": _v(
        D,
        H,
        Item.DOMAIN_SETUP,
        "{host} does not resolve",
        "Nobody can reach {host}: DNS says {reason}. Anything that links to it, including your own app, "
        "emails and bookmarks, will fail.",
        "Add the record your host asks for at your DNS provider, for example:\n{host}. 300 IN {rtype} {target}",
    ),
    "dns.host.failure": _v(
        D,
        H,
        Item.DOMAIN_SETUP,
        "DNS lookups for {host} fail",
        "The DNS servers for {host} did not answer properly ({status}). This is not the same as a missing "
        "record: visitors may see the site one minute and an error the next.",
        "Check the domain's nameservers at the registrar and that each of them answers for {host}.",
    ),
    "dns.host.refused": _v(
        D,
        B,
        Item.DOMAIN_SETUP,
        "{host} resolves to {address}, {reason}: the public cannot reach it",
        "{address} is {reason}, which nobody on the internet can reach: visitors get an error at {host}. The "
        "audit does not connect there either, so nothing served on {host} was checked.",
        "Point {host} at the public address or hostname your hosting provider gives you.",
    ),
    "dns.cname.dangling": _v(
        D,
        B,
        Item.DOMAIN_SETUP,
        "{host} points at a deleted {service} resource",
        "{host} is an alias (CNAME) for {target}, which no longer exists. Anyone can create a {service} "
        "resource with that name and serve their own pages, cookies and phishing forms on your domain.",
        "Delete the CNAME record for {host}, or recreate the {service} resource it points to, today.",
    ),
    "dns.cname.loop": _v(
        D,
        H,
        Item.DOMAIN_SETUP,
        "{host} is caught in a CNAME loop",
        "The aliases for {host} point at each other, so it never resolves to an address.",
        "Replace the CNAME chain for {host} with a record that ends in an address or your host's name.",
    ),
    "dns.ns.too_few": _v(
        D,
        M,
        Item.DOMAIN_SETUP,
        "{domain} has fewer than two nameservers",
        "With a single nameserver, one outage at your DNS provider takes the whole domain down.",
        "Use the two or more nameservers your DNS provider gives you, at the registrar.",
    ),
    "dns.ns.inconsistent": _v(
        D,
        H,
        Item.DOMAIN_SETUP,
        "{domain}'s nameservers do not agree",
        "Some of the nameservers listed for {domain} do not resolve or do not answer: {problem}. Visitors "
        "whose resolver picks a broken one cannot reach you.",
        "Remove stale nameservers at the registrar so only your DNS provider's servers are listed.",
    ),
    "dns.domain.missing": _v(
        D,
        B,
        Item.DOMAIN_SETUP,
        "{domain} does not resolve: check the spelling and the registration",
        "DNS has no record of {domain} at all: the name does not exist. Nothing under it can work, no website, "
        "no email, no certificate. {folded}",
        "Check the spelling of the domain. If it is right, check at the registrar that it is registered, paid "
        "for and delegated to your DNS provider's nameservers, then run the audit again.",
    ),
    "dns.domain.unreachable": _v(
        D,
        B,
        Item.DOMAIN_SETUP,
        "{domain}'s nameservers cannot be reached: nobody can look the domain up",
        "Every question about {domain} failed ({status}) while other domains answer: its nameservers are down, "
        "or the registrar lists the wrong ones. Until they answer, the website, email and certificate renewals "
        "all fail. {folded}",
        "At the registrar, check that the nameservers listed for {domain} are the ones your DNS provider gives "
        "you, and at the provider that the domain's zone exists and is active; then run the audit again.",
    ),
    "dns.ns.refused": _v(
        D,
        B,
        Item.DOMAIN_SETUP,
        "{domain}'s nameservers resolve to private addresses",
        "{servers}. Resolvers on the internet cannot ask a nameserver there, and the audit refused to (it "
        "never connects to private or reserved addresses), so whether they answer and agree could not be checked.",
        "Give the nameservers their public addresses (the glue records at the registrar), or list your DNS "
        "provider's nameservers at the registrar instead.",
    ),
    "dns.caa.missing": _v(
        D,
        L,
        Item.DOMAIN_SETUP,
        "No CAA record limits who can issue certificates",
        "Any certificate authority may issue a certificate for {domain}. A CAA record makes it harder for "
        "an attacker to obtain one.",
        'Publish a CAA record for the authority you use, for example:\n{domain}. 3600 IN CAA 0 issue "{ca}"',
    ),
    "dns.caa.dns_failure": _v(
        D,
        H,
        Item.SSL,
        "CAA lookups for {domain} fail",
        "Asked for {domain}'s CAA records, DNS failed ({status}). Certificate authorities must look CAA up "
        "before they issue and must refuse while the lookup fails, so the next certificate renewal will fail; "
        "and the audit could not check which authorities may issue.",
        "Make the domain's nameservers answer CAA questions (an empty answer is fine), then run the audit again.",
    ),
    "dns.caa.blocks_issuer": _v(
        D,
        H,
        Item.SSL,
        "CAA forbids the authority that issues your certificate",
        "{domain}'s CAA record allows only {allowed}, but the current certificate comes from {issuer}. "
        "The next renewal will fail and the site will show a certificate error.",
        'Add the issuer to CAA:\n{domain}. 3600 IN CAA 0 issue "{ca}"',
    ),
    "dns.ttl.long": _v(
        D,
        M,
        Item.DOMAIN_SETUP,
        "Long TTLs will slow down a planned change",
        "{records} have TTLs of up to {ttl} seconds. If you move hosting during the sprint, some visitors "
        "will keep going to the old place for that long.",
        "A day before the change, lower the TTL of these records to 300 seconds; raise it again afterwards.",
    ),
    "dns.ipv6.missing": _v(
        D,
        INFO,
        Item.DOMAIN_SETUP,
        "{host} has no IPv6 address",
        "Visitors on IPv6-only networks reach you through translation, which usually works.",
        "Nothing to do unless your host offers IPv6: then add its AAAA record.",
    ),
    "dns.dnssec.off": _v(
        D,
        INFO,
        Item.DOMAIN_SETUP,
        "DNSSEC is not enabled for {domain}",
        "DNSSEC protects visitors against forged DNS answers. Most small sites run without it.",
        "If your DNS provider offers one-click DNSSEC, turn it on and add the DS record at the registrar.",
    ),
    # --- TLS -------------------------------------------------------------------------------------
    "tls.unreachable": _v(
        T,
        B,
        Item.SSL,
        "{host} does not answer on HTTPS",
        "Browsers could not open a secure connection to {host} ({detail}). Visitors see an error page.",
        "Turn on HTTPS for {host} at your hosting provider or CDN and make sure port 443 is open.",
    ),
    "tls.expired": _v(
        T,
        B,
        Item.SSL,
        "The certificate for {host} has expired",
        "It expired on {not_after}. Every browser shows a full-page security warning; most visitors leave.",
        "Renew the certificate now and turn on automatic renewal at your host.",
    ),
    "tls.not_yet_valid": _v(
        T,
        B,
        Item.SSL,
        "The certificate for {host} is not valid yet",
        "It starts on {not_before}. Until then browsers refuse it.",
        "Install a certificate that is valid now, or check the server's clock.",
    ),
    "tls.expiring_soon": _v(
        T,
        H,
        Item.SSL,
        "The certificate for {host} expires in {days} days",
        "On {not_after} browsers will start blocking the site unless it is renewed.",
        "Renew it now and make sure renewal is automatic (a 90-day ACME certificate usually renews itself "
        "30 days before expiry; if it has not, renewal is failing).",
    ),
    "tls.hostname_mismatch": _v(
        T,
        B,
        Item.SSL,
        "The certificate does not cover {host}",
        "The certificate is for {names}, not {host}. Browsers show a security warning.",
        "Issue a certificate that includes {host} (add it as a domain at your host or CDN).",
    ),
    "tls.untrusted": _v(
        T,
        B,
        Item.SSL,
        "The certificate for {host} is not trusted",
        "Browsers refuse it: {detail}. Visitors see a security warning.",
        "Replace it with a certificate from a public authority such as Let's Encrypt (free with most hosts).",
    ),
    "tls.chain_incomplete": _v(
        T,
        B,
        Item.SSL,
        "{host} does not send its intermediate certificate",
        "The certificate's chain stops short: {detail}. Desktop browsers often patch this up, but phones, "
        "API clients and webhooks from other services fail to connect.",
        "Install the full chain (the 'fullchain' file) on the server instead of the certificate alone.",
    ),
    "tls.chain_strict": _v(
        T,
        L,
        Item.SSL,
        "The certificate for {host} breaks a rule only strict clients enforce",
        "Browsers accept it, but a strict verifier refuses it: {detail}. Most visitors see nothing wrong; "
        "a few API clients and webhook senders built on strict TLS libraries may refuse to connect.",
        "Nothing urgent. At the next renewal, ask your host or certificate authority for a certificate that "
        "follows the CA/Browser Forum profile (public authorities issue those by default).",
    ),
    "tls.weak_key": _v(
        T,
        M,
        Item.SSL,
        "The certificate for {host} uses a weak {bits}-bit key",
        "Keys this short are no longer considered safe and some clients refuse them.",
        "Reissue the certificate with a 2048-bit RSA or a P-256 ECDSA key.",
    ),
    "tls.old_protocol": _v(
        T,
        M,
        Item.SSL,
        "{host} still accepts {protocol}",
        "Old TLS versions have known weaknesses; security scanners and enterprise customers flag them.",
        "Set the minimum TLS version to 1.2 at your host or CDN.",
    ),
    "tls.certificate": _v(
        T, INFO, Item.SSL, "Certificate for {host}: {issuer}, {lifetime} days", "{renewal}", "Nothing to do."
    ),
    # --- Redirects and canonical host --------------------------------------------------------------
    "redirect.http_not_https": _v(
        R,
        H,
        Item.REDIRECTS,
        "http://{host} does not redirect to HTTPS",
        "Visitors who type the address without https stay on an unencrypted page where passwords and "
        "session cookies can be read on public Wi-Fi.",
        "Turn on 'Always use HTTPS' (or a 301 redirect from http:// to https://) for {host}.",
    ),
    "redirect.loop": _v(
        R,
        B,
        Item.REDIRECTS,
        "{url} redirects in a loop",
        "Browsers give up with 'too many redirects'; the page never loads.",
        "Check the redirect rules at your host and CDN; a common cause is a CDN in 'Flexible' SSL mode in "
        "front of a host that also forces HTTPS: set the CDN to 'Full (strict)'.",
    ),
    "redirect.too_many": _v(
        R,
        B,
        Item.REDIRECTS,
        "{url} redirects more than {limit} times",
        "Browsers stop following long redirect chains; the page never loads.",
        "Make each old address redirect straight to its final https:// address.",
    ),
    "redirect.long_chain": _v(
        R,
        M,
        Item.REDIRECTS,
        "{url} takes {hops} redirects to reach the page",
        "Each hop costs a round trip before anything shows: {chain}.",
        "Redirect straight to {final} in one step.",
    ),
    "redirect.both_hosts_serve": _v(
        R,
        M,
        Item.REDIRECTS,
        "Both {apex} and www.{apex} serve the site",
        "Search engines see two copies of every page, and logins on one are not valid on the other.",
        "Pick one canonical host ({canonical}) and redirect the other to it with a 301.",
    ),
    "redirect.wrong_canonical": _v(
        R,
        H,
        Item.REDIRECTS,
        "The site settles on {actual}, not {expected}",
        "You chose {expected} as the canonical host, but visitors end up on {actual}. Links, cookies and "
        "search results will be split between the two.",
        "Change the redirect at your host so that {actual} redirects to {expected}, or update the chosen host.",
    ),
    "redirect.drops_path": _v(
        R,
        M,
        Item.REDIRECTS,
        "A redirect from {url} drops the path",
        "Links to deep pages ({url}) land on {final} instead, so shared links and ads break.",
        "Make the redirect keep the path and query string (redirect to https://{canonical}$request_uri).",
    ),
    "redirect.temporary": _v(
        R,
        L,
        Item.REDIRECTS,
        "{url} uses a temporary {status} redirect for the canonical move",
        "Search engines keep the old address indexed when the redirect is temporary.",
        "Use a permanent redirect (301 or 308).",
    ),
    "redirect.on_callback": _v(
        R,
        H,
        Item.REDIRECTS,
        "The {kind} route {url} answers with a redirect",
        "The sign-in provider sends people back to exactly the address registered with it; a redirect there "
        "can lose the sign-in on the way (its code, or the cookie set on another host), and people cannot sign in.",
        "Register the final URL ({final}) with the provider, or stop redirecting this path.",
    ),
    "redirect.mixed_content": _v(
        R,
        H,
        Item.REDIRECTS,
        "{url} loads scripts or styles over plain http",
        "Browsers block insecure scripts, styles and frames on https pages, so parts of the page break: {resources}.",
        "Load these resources over https:// (or with a relative path).",
    ),
    # --- Routes ------------------------------------------------------------------------------------
    "route.unreachable": _v(
        RT,
        H,
        Item.UPTIME,
        "{kind} route {url} cannot be reached",
        "The request failed ({detail}). Users of this page get an error.",
        "Check that the host is deployed and the path exists; then re-run the audit.",
    ),
    "route.unexpected_status": _v(
        RT,
        H,
        Item.UPTIME,
        "{kind} route {url} answers {status}",
        "It should answer {expected}. {impact}",
        "Fix the route so it answers {expected}, or update the expected status codes if {status} is right.",
    ),
    "route.keyword_missing": _v(
        RT,
        H,
        Item.UPTIME,
        "{kind} route {url} does not show “{keyword}”",
        "The page loads but not with the content expected, which usually means an error page with a 200 status.",
        "Check the page in a browser; fix the app or update the keyword.",
    ),
    "route.slow_ttfb": _v(
        RT,
        H,
        Item.UPTIME,
        "{kind} route {url} takes {ttfb} ms to start answering",
        "Over 2 seconds before the first byte, visitors think the app is broken and leave.",
        "Look for slow database queries or cold starts; consider caching or a warmer plan.",
    ),
    "route.slow_p95": _v(
        RT,
        M,
        Item.UPTIME,
        "{kind} route {url} is slow: p95 {p95} ms",
        "Of {samples} sample requests, more than one took longer than the 500 ms budget; the slowest took {p95} ms.",
        "Profile the route; add caching or indexes for its slowest queries.",
    ),
    # --- Webhooks (an unsigned event POSTed to each webhook route) ------------------------------------
    "webhook.redirects": _v(
        RT,
        H,
        Item.REDIRECTS,
        "The webhook {url} answers an event with a redirect: {status}",
        "An event POSTed there, as a provider sends one, was sent on to {target}. Webhook providers do not follow "
        "redirects (Stripe, GitHub and Slack count them as failures), and those that do turn a 301 or 302 into a "
        "GET without the event: every event is retried until the provider disables the endpoint.",
        "Register the final address ({target}) with the provider, or answer on {path} itself (a trailing-slash "
        "or canonical-host rule in front of the app is the usual cause).",
    ),
    "webhook.accepts_unsigned": _v(
        RT,
        H,
        Item.SECRETS,
        "The webhook {url} accepts an event with no signature",
        "It answered {status} to an event that carried no signature: anyone who knows the address can send it "
        "events (a payment that never happened, a cancelled plan) and the app acts on them.",
        "Verify the provider's signature before acting on an event (Stripe's Stripe-Signature header with the "
        "endpoint's signing secret, GitHub's X-Hub-Signature-256), and answer 400 when it is missing or wrong.",
    ),
    "webhook.fails_unsigned": _v(
        RT,
        H,
        Item.UPTIME,
        "The webhook {url} fails with {status} on an event with no signature",
        "It answered {status} instead of refusing the event. Providers retry every 5xx and then disable the "
        "endpoint, and a handler that crashes on an event it should refuse reads the event before checking who "
        "sent it.",
        "Check the signature first and answer 400 when it is missing or wrong, before parsing the event; then "
        "look for the error in the app's logs.",
    ),
    "webhook.not_found": _v(
        RT,
        H,
        Item.UPTIME,
        "The webhook {url} does not exist: {status}",
        "It answered {status} to an event: the provider's events go nowhere; they are retried, then dropped.",
        "Deploy the webhook handler at {path}, or register the address it has with the provider.",
    ),
    "webhook.post_refused": _v(
        RT,
        H,
        Item.UPTIME,
        "The webhook {url} refuses POST: {status}",
        "It does not take a POST, which is how every provider delivers its events: each one is retried, then dropped.",
        "Route POST requests on {path} to the webhook handler.",
    ),
    "webhook.slow": _v(
        RT,
        M,
        Item.UPTIME,
        "The webhook {url} takes {took} to answer an event",
        "It took {took} to answer an event it should turn away at once. Providers give up after 10 to 30 s and "
        "retry; a handler that does its work before answering piles up retries and duplicate events.",
        "Answer as soon as the signature is checked and do the work in a background job.",
    ),
    # --- Edge and caching --------------------------------------------------------------------------
    "edge.no_cdn": _v(
        E,
        M,
        Item.CLOUDFLARE,
        "{host} is not behind a CDN or firewall",
        "The app server takes every request directly, including bots and attacks, and serves static files "
        "from far away.",
        "Put the domain behind a CDN such as Cloudflare (proxied records) with its free WAF rules.",
    ),
    "edge.cdn": _v(
        E,
        INFO,
        Item.CLOUDFLARE,
        "{host} is served through {cdn}",
        "The audit saw {cdn} answer for {host}: requests reach the CDN first, not the app server.",
        "Nothing to do. Keep the records proxied when you change DNS.",
    ),
    "edge.origin_exposed": _v(
        E,
        M,
        Item.CLOUDFLARE,
        "The origin address behind the CDN is public",
        "{record} points straight at the app server ({address}) while the main site is proxied, so "
        "attackers can skip the CDN and its protection.",
        "Proxy that record too, or remove it; then let the origin accept traffic only from the CDN.",
    ),
    "edge.static_no_cache": _v(
        E,
        M,
        Item.CACHING,
        "Static files are served without long-lived caching",
        "{asset} answers with Cache-Control “{cache_control}”, so browsers download it again on every visit.",
        "Serve fingerprinted static files with: Cache-Control: public, max-age=31536000, immutable",
    ),
    "edge.shared_cache_private": _v(
        E,
        B,
        Item.CACHING,
        "{url} lets shared caches store a private page",
        "The page sets a session cookie (or serves user data) with Cache-Control “{cache_control}”. A CDN "
        "could show one user's page, and session, to the next visitor.",
        "Send Cache-Control: private, no-store on pages that set cookies or show user data.",
    ),
    "edge.no_compression": _v(
        E,
        L,
        Item.CACHING,
        "{url} is sent without compression",
        "Text pages are several times larger than they need to be, which slows first visits on phones.",
        "Turn on gzip or Brotli compression at your host or CDN.",
    ),
    # --- Security headers and exposure --------------------------------------------------------------
    "headers.unchecked": _v(
        HD,
        M,
        Item.SSL,
        "Security headers, caching and exposure of {url} could not be checked",
        "The homepage did not answer ({detail}), so its security headers, caching and exposed files were never "
        "seen: this is not the same as their being right.",
        "Fix what stops the homepage from answering, then run the audit again.",
    ),
    "headers.hsts_missing": _v(
        HD,
        M,
        Item.SSL,
        "{host} does not send HSTS",
        "Without Strict-Transport-Security, a visitor's first request can be downgraded to plain http on a "
        "hostile network.",
        "Send: Strict-Transport-Security: max-age=31536000; includeSubDomains",
    ),
    "headers.hsts_short": _v(
        HD,
        L,
        Item.SSL,
        "HSTS on {host} lasts only {max_age} seconds",
        "A short max-age protects returning visitors for a short time only.",
        "Send: Strict-Transport-Security: max-age=31536000; includeSubDomains",
    ),
    "headers.csp_missing": _v(
        HD,
        M,
        Item.HANDOVER,
        "{host} sends no Content-Security-Policy",
        "A CSP limits the damage of a cross-site scripting bug: injected scripts cannot load or send data.",
        "Start with: Content-Security-Policy: default-src 'self'; frame-ancestors 'none'; object-src 'none'",
    ),
    "headers.frame_missing": _v(
        HD,
        M,
        Item.HANDOVER,
        "The login page {url} can be framed by other sites",
        "Another site can show your login page inside an invisible frame and trick users into clicking (clickjacking).",
        "Send X-Frame-Options: DENY or Content-Security-Policy: frame-ancestors 'none'",
    ),
    "headers.nosniff_missing": _v(
        HD,
        L,
        Item.HANDOVER,
        "{host} does not send X-Content-Type-Options",
        "Browsers may guess file types, which can turn an uploaded file into a script.",
        "Send: X-Content-Type-Options: nosniff",
    ),
    "headers.referrer_missing": _v(
        HD,
        L,
        Item.HANDOVER,
        "{host} sends no Referrer-Policy",
        "Full page addresses, which can include reset tokens or private ids, leak to other sites.",
        "Send: Referrer-Policy: strict-origin-when-cross-origin",
    ),
    "headers.cookie_insecure": _v(
        HD,
        H,
        Item.SECRETS,
        "The cookie {cookie} on {url} lacks {missing}",
        "Session cookies without these flags can be stolen by scripts or sent over plain http.",
        "Set the cookie with: Secure; HttpOnly; SameSite=Lax",
    ),
    "headers.cors_reflects": _v(
        HD,
        H,
        Item.SECRETS,
        "{url} lets any website read it with the user's cookies",
        "It copies any Origin into Access-Control-Allow-Origin and allows credentials, so a malicious page "
        "can read a signed-in user's data.",
        "Allow only your own front-end origins in CORS; never reflect the request's Origin with credentials.",
    ),
    "headers.grade": _v(
        HD,
        INFO,
        Item.HANDOVER,
        "Security header grade for {host}: {grade} ({score}/100)",
        "Scored in the spirit of Mozilla's HTTP Observatory: {deductions}.",
        "Fix the header findings above to raise the grade.",
    ),
    "exposure.env_file": _v(
        HD,
        B,
        Item.SECRETS,
        "{url} serves the app's .env file",
        "Anyone can download the app's secrets: database passwords, API keys, signing keys.",
        "Block dotfiles at the web server, remove the file from the deployed folder, then rotate every "
        "secret it contained.",
    ),
    "exposure.git": _v(
        HD,
        B,
        Item.SECRETS,
        "{url} exposes the .git folder",
        "The whole source code and history, including any secret ever committed, can be downloaded.",
        "Remove .git from the deployed files and block dotfiles at the web server; rotate committed secrets.",
    ),
    "exposure.debug_page": _v(
        HD,
        B,
        Item.SECRETS,
        "{url} shows a framework debug page",
        "Debug pages reveal settings, code and sometimes secrets, and can allow running code.",
        "Turn debug mode off in production (DEBUG=False, NODE_ENV=production, APP_DEBUG=false).",
    ),
    "exposure.source_map": _v(
        HD,
        L,
        Item.SECRETS,
        "Public source map {url}",
        "Your original front-end source is readable by anyone, which makes finding bugs and keys easier.",
        "Stop uploading .map files to the public site, or restrict them.",
    ),
    "exposure.admin_indexable": _v(
        HD,
        L,
        Item.HANDOVER,
        "The admin path {url} can be indexed by search engines",
        "Admin login pages show up in searches and attract password-guessing bots.",
        "Send X-Robots-Tag: noindex on admin pages and disallow them in robots.txt.",
    ),
    # --- Email authentication ------------------------------------------------------------------------
    "email.mx.missing": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "{domain} cannot receive email",
        "There is no MX record, so replies to your emails and messages to your support address bounce.",
        "Add the MX records your email provider gives you, for example:\n{domain}. 3600 IN MX {mx}",
    ),
    "email.spf.missing": _v(
        EM,
        B,
        Item.EMAIL_AUTH,
        "{domain} has no SPF record",
        "Receiving mail servers cannot tell your real emails from forgeries; sign-up, reset and receipt "
        "emails land in spam.",
        'Publish one SPF record:\n{domain}. 3600 IN TXT "{record}"',
    ),
    "email.spf.multiple": _v(
        EM,
        B,
        Item.EMAIL_AUTH,
        "{domain} has {count} SPF records",
        "With more than one SPF record, receivers treat SPF as broken (a permanent error) for every email.",
        'Merge them into one record:\n{domain}. 3600 IN TXT "{record}"',
    ),
    "email.spf.syntax": _v(
        EM,
        B,
        Item.EMAIL_AUTH,
        "{domain}'s SPF record has an error",
        "Receivers cannot read it ({problem}), so SPF fails for every email.",
        'Publish a corrected record:\n{domain}. 3600 IN TXT "{record}"',
    ),
    "email.spf.too_many_lookups": _v(
        EM,
        B,
        Item.EMAIL_AUTH,
        "{domain}'s SPF needs {count} DNS lookups (limit 10)",
        "Receivers stop at 10 lookups and treat SPF as failed, so legitimate email fails SPF.",
        "Remove includes for services you no longer use, or replace some with ip4:/ip6: ranges. "
        "Includes counted: {includes}.",
    ),
    "email.spf.too_many_void": _v(
        EM,
        B,
        Item.EMAIL_AUTH,
        "{domain}'s SPF refers to {count} names that do not exist",
        "More than two empty lookups is a permanent SPF error for receivers.",
        "Remove these terms from the record: {names}.",
    ),
    "email.spf.permissive_all": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "{domain}'s SPF ends in {all}",
        "{all} tells receivers that any server may send as {domain}, which defeats SPF.",
        'End the record with ~all (or -all once DMARC reports look clean):\n{domain}. 3600 IN TXT "{record}"',
    ),
    "email.spf.provider_missing": _v(
        EM,
        B,
        Item.EMAIL_AUTH,
        "SPF does not authorise {provider}",
        "Emails that {provider} sends for {domain} fail SPF and may be rejected or sent to spam.",
        'Add {provider}\'s include to the record:\n{domain}. 3600 IN TXT "{record}"',
    ),
    "email.spf.dns_failure": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "SPF for {domain} could not be checked",
        "DNS failed ({status}) while reading {name}. This is not the same as having no record: receivers "
        "see a temporary error and may delay or reject email.",
        "Check that {domain}'s nameservers answer TXT queries.",
    ),
    "email.dkim.missing": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "No DKIM key found for {domain}",
        "Without DKIM signatures, DMARC relies on SPF alone and forwarded email fails. Selectors tried: "
        "{selectors} (guessing selectors can never prove DKIM absent).",
        "Turn on DKIM signing in {provider} and publish the record it shows you at <selector>._domainkey.{domain}.",
    ),
    "email.dkim.revoked": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The DKIM key {selector}._domainkey.{domain} is revoked",
        "The record has an empty key, so every email signed with this selector fails DKIM.",
        "Publish the current key from your provider, or stop signing with this selector.",
    ),
    "email.dkim.testing": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The DKIM key {selector} is in testing mode",
        "t=y asks receivers to ignore DKIM failures, which weakens protection.",
        "Remove t=y from the record once signing works.",
    ),
    "email.dkim.weak_key": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The DKIM key {selector} is only {bits} bits",
        "Keys under 1024 bits can be cracked and are rejected by major receivers.",
        "Generate a 2048-bit key in your provider and publish the new record.",
    ),
    "email.dkim.key_1024": _v(
        EM,
        L,
        Item.EMAIL_AUTH,
        "The DKIM key {selector} is 1024 bits",
        "1024-bit keys still work but are below today's recommendation of 2048 bits.",
        "Rotate to a 2048-bit key when convenient.",
    ),
    "email.dkim.sha1": _v(
        EM,
        L,
        Item.EMAIL_AUTH,
        "The DKIM key {selector} allows only SHA-1",
        "h=sha1 signatures are deprecated; receivers may ignore them.",
        "Remove h=sha1 from the record (or use h=sha256).",
    ),
    "email.dkim.invalid": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The DKIM record {selector}._domainkey.{domain} is broken",
        "Receivers cannot read it ({problem}), so signatures with this selector fail.",
        "Copy the record again from your email provider, exactly as given.",
    ),
    "email.dkim.dns_failure": _v(
        EM,
        M,
        Item.EMAIL_AUTH,
        "DKIM for {domain} could not be checked",
        "DNS failed ({status}) while looking up {names}, so whether mail is signed is unknown: this is not the "
        "same as having no key.",
        "Check that the domain's nameservers answer TXT queries for _domainkey names, then run the audit again.",
    ),
    "email.dmarc.missing": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "{domain} has no DMARC policy",
        "Anyone can send email that claims to come from {domain}, and Gmail and Yahoo require DMARC from bulk senders.",
        'Publish a DMARC record to start collecting reports:\n_dmarc.{domain}. 3600 IN TXT "{record}"',
    ),
    "email.dmarc.multiple": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "{domain} has several DMARC records",
        "Receivers ignore DMARC when there is more than one record.",
        'Keep exactly one record at _dmarc.{domain}:\n_dmarc.{domain}. 3600 IN TXT "{record}"',
    ),
    "email.dmarc.syntax": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "{domain}'s DMARC record has an error",
        "Receivers cannot apply it: {problem}.",
        'Publish a corrected record:\n_dmarc.{domain}. 3600 IN TXT "{record}"',
    ),
    "email.dmarc.none_no_reports": _v(
        EM,
        M,
        Item.EMAIL_AUTH,
        "DMARC for {domain} is p=none with no reports",
        "The policy neither protects the domain nor tells you who sends as it.",
        'Add a report address:\n_dmarc.{domain}. 3600 IN TXT "{record}"',
    ),
    "email.dmarc.none_with_reports": _v(
        EM,
        L,
        Item.EMAIL_AUTH,
        "DMARC for {domain} is monitoring only (p=none)",
        "This is the right first step: reports arrive while nothing is blocked. Forged email is still delivered.",
        'When the reports show only your own services, move to p=quarantine:\n_dmarc.{domain}. 3600 IN TXT "{record}"',
    ),
    "email.dmarc.rua_unauthorised": _v(
        EM,
        M,
        Item.EMAIL_AUTH,
        "DMARC reports for {domain} go to {rua_domain}, which has not agreed",
        "Receivers only send reports to another domain when it publishes an authorisation record, so you "
        "get no reports.",
        'Ask the report service to publish (or publish yourself):\n{auth_name}. 3600 IN TXT "v=DMARC1"',
    ),
    "email.dmarc.removed_tags": _v(
        EM,
        L,
        Item.EMAIL_AUTH,
        "{domain}'s DMARC record uses removed tags: {tags}",
        "RFC 9989 removed pct, rf and ri; receivers ignore them, so they do not do what they seem to.",
        'Drop them from the record:\n_dmarc.{domain}. 3600 IN TXT "{record}"',
    ),
    "email.dmarc.psl_disagrees": _v(
        EM,
        INFO,
        Item.EMAIL_AUTH,
        "DMARC discovery and the Public Suffix List disagree for {domain}",
        "The DNS tree walk (RFC 9989) finds the organizational domain {tree_walk}; the older Public Suffix "
        "List method finds {psl}. Receivers that still use the list may apply a different policy.",
        "Publish the policy at _dmarc.{domain} itself so both methods find it.",
    ),
    "email.dmarc.dns_failure": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "DMARC for {domain} could not be checked",
        "DNS failed ({status}) while reading {name}; this is not the same as having no record.",
        "Check that the domain's nameservers answer TXT queries for _dmarc names.",
    ),
    "email.mta_sts.missing": _v(
        EM,
        INFO,
        Item.EMAIL_AUTH,
        "{domain} has no MTA-STS policy",
        "MTA-STS makes other mail servers use encrypted connections to yours.",
        'Optional: publish _mta-sts.{domain} TXT "v=STSv1; id=1" and a policy file at '
        "https://mta-sts.{domain}/.well-known/mta-sts.txt",
    ),
    "email.tls_rpt.missing": _v(
        EM,
        INFO,
        Item.EMAIL_AUTH,
        "{domain} has no TLS-RPT record",
        "TLS reports tell you when other servers cannot deliver mail to you securely.",
        'Optional: _smtp._tls.{domain}. 3600 IN TXT "v=TLSRPTv1; rua=mailto:tls-reports@{domain}"',
    ),
    # --- A real send: one message the product's receiver was sent ---------------------------------------
    "email.send.authenticated": _v(
        EM,
        INFO,
        Item.EMAIL_AUTH,
        "This email passed DMARC for {domain}",
        "Receivers can tell it really comes from {domain}: {how} passed for a domain aligned with the From "
        "address, under p={policy}.",
        "Nothing to fix. Keep sending through the same service and domain.",
    ),
    "email.send.spf_fail": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The server that sent this email ({ip}) is not in {domain}'s SPF record",
        "SPF for {domain} says {result} for {ip}, so receivers treat this email as possibly forged; unless an "
        "aligned DKIM signature saves it, DMARC fails too. This is what happens when a sending service is not "
        "listed in SPF.",
        "Add the sending service's include (from its DNS settings page), or this address, to the one SPF record:\n"
        '{domain}. 3600 IN TXT "{record}"',
    ),
    "email.send.spf_none": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The envelope domain {domain} has no SPF record",
        "The email's return path (MAIL FROM) is at {domain}, which publishes no SPF record, so SPF cannot pass "
        "and cannot count for DMARC.",
        'Publish an SPF record for the return-path domain:\n{domain}. 3600 IN TXT "{record}"',
    ),
    "email.send.spf_error": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "SPF for {domain} could not be evaluated ({result})",
        "A receiver checking this email would get an SPF {result}: {problem}. SPF then counts as failed for DMARC, "
        "and some receivers delay the email.",
        "Fix {domain}'s SPF record as the problem says (run the audit to see the record's full analysis), then "
        "send the test again.",
    ),
    "email.send.dkim_missing": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "This email has no DKIM signature",
        "Without a signature, DMARC for {domain} rests on SPF alone, which breaks as soon as the email is "
        "forwarded; Gmail and Yahoo expect bulk senders to sign.",
        'Turn on DKIM signing with your own domain in the sending service (often called "domain '
        'authentication") and publish the key record it gives you at <selector>._domainkey.{domain}.',
    ),
    "email.send.dkim_body_hash": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The DKIM signature of {domain} does not match the email's body",
        "The body changed after it was signed (a footer, tracking links or a re-encoding added by a later hop), "
        "so receivers see DKIM fail for {domain}.",
        "Make the signing step the last one that touches the body: turn off footers or link rewriting added after "
        "your provider signs, or let the last relay sign with d={domain}.",
    ),
    "email.send.dkim_signature": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The DKIM signature of {domain} does not verify",
        "{problem}: the signed headers were changed on the way, or the key published at {name} is not the one the "
        "sender signs with. Receivers treat the email as unsigned.",
        "Copy the DKIM record again from the sending service, exactly as given, to {name}; if it already matches, "
        "stop anything that rewrites the headers after signing.",
    ),
    "email.send.dkim_expired": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The DKIM signature of {domain} had expired when it arrived",
        "Its x= tag says it expired at {expired}; receivers treat an expired signature as no signature.",
        "Give signatures a lifetime of days (or none) in the signer's settings, and check the sending server's clock.",
    ),
    "email.send.dkim_key_missing": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The DKIM key {name} does not exist",
        "The email is signed with selector {selector} for {domain}, but no key is published there, so no "
        "receiver can verify the signature.",
        "Publish the DKIM record the sending service shows for selector {selector} at {name}.",
    ),
    "email.send.dkim_key_invalid": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The DKIM key {name} cannot be used",
        "Receivers cannot verify the signature: {problem}.",
        "Copy the DKIM record again from the sending service, exactly as given, to {name}.",
    ),
    "email.send.dkim_weak_key": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The DKIM key of {domain} is only {bits} bits",
        "Receivers refuse signatures made with keys under 1024 bits (RFC 8301), so this email counts as unsigned.",
        "Generate a 2048-bit key in the sending service and publish its new record at {name}.",
    ),
    "email.send.dkim_key_1024": _v(
        EM,
        L,
        Item.EMAIL_AUTH,
        "The DKIM key of {domain} is {bits} bits",
        "The signature verifies, but keys under 2048 bits are below today's recommendation.",
        "Rotate to a 2048-bit key in the sending service when convenient, and publish it at {name}.",
    ),
    "email.send.dkim_length": _v(
        EM,
        M,
        Item.EMAIL_AUTH,
        "The DKIM signature of {domain} covers only the first {length} bytes of the body",
        "The l= tag lets anyone append text and links to a signed email of yours and keep the signature valid.",
        "Turn off the body length (l=) option in the signer.",
    ),
    "email.send.dkim_dns_failure": _v(
        EM,
        M,
        Item.EMAIL_AUTH,
        "The DKIM key {name} could not be read",
        "{problem}: receivers see a temporary error and may delay the email; this is not the same as a missing key.",
        "Check that {domain}'s nameservers answer TXT questions for {name}, then send the test again.",
    ),
    "email.send.dkim_malformed": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "A DKIM signature of this email is malformed",
        "Receivers ignore it: {problem}.",
        "Check the signer's settings in the sending service (or the library that signs), then send the test again.",
    ),
    "email.send.dmarc_fail": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "This email fails DMARC for {domain}",
        "Neither SPF nor DKIM passed for a domain aligned with the From address: SPF {spf_result} for "
        "{spf_domain}, DKIM passed for {dkim_domains}. Under p={policy}, receivers {effect}.",
        "Send with {domain} itself: set up the sending service's domain authentication so that it signs with "
        "d={domain} (or a subdomain of it) and uses a return path under {domain}, then send the test again.",
    ),
    "email.send.dmarc_missing": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "{domain} has no DMARC policy",
        "This email's From domain publishes no DMARC record: receivers cannot tell it from a forgery, and Gmail "
        "and Yahoo require DMARC from bulk senders.",
        'Publish a DMARC record to start collecting reports:\n_dmarc.{domain}. 3600 IN TXT "{record}"',
    ),
    "email.send.dmarc_dns_failure": _v(
        EM,
        M,
        Item.EMAIL_AUTH,
        "DMARC for {domain} could not be read",
        "DNS failed while looking for the policy; receivers see a temporary error. This is not the same as having "
        "no record.",
        "Check that the domain's nameservers answer TXT questions for _dmarc.{domain}, then send the test again.",
    ),
    "email.send.no_tls": _v(
        EM,
        M,
        Item.EMAIL_AUTH,
        "The sending server did not use TLS",
        "The email crossed the internet unencrypted although the receiver offered STARTTLS: anyone on the path "
        "could read or change sign-up links and reset tokens.",
        'Turn on TLS for outgoing mail in the sending server or service (STARTTLS, "opportunistic" at least).',
    ),
    "email.send.no_reverse_dns": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The sending server {ip} has no reverse DNS name",
        "Gmail, Yahoo and Microsoft expect a sending address to have a PTR record; without one the email is "
        "likely to be rejected or sent to spam.",
        "Send through a mail service (it sets this for you), or have the owner of {ip} (the hosting provider) set "
        "its reverse DNS to a host name that resolves back to {ip}.",
    ),
    "email.send.reverse_dns_mismatch": _v(
        EM,
        M,
        Item.EMAIL_AUTH,
        "The reverse DNS name of {ip} ({name}) does not point back to it",
        "Receivers confirm a sender's PTR name by resolving it again; {name} does not resolve to {ip}, which "
        "counts against the email.",
        "Add an A (or AAAA) record for {name} pointing at {ip}, or change the PTR record to a name that does.",
    ),
    "email.send.helo_invalid": _v(
        EM,
        L,
        Item.EMAIL_AUTH,
        "The sending server introduced itself as {helo}",
        "In its HELO it {problem}; receivers use the HELO name in spam scoring and in SPF.",
        "Set the sending server's host name (its HELO/EHLO name) to its public name, the one its reverse DNS gives.",
    ),
    "email.send.from_invalid": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The email's From header {problem}",
        "Receivers need exactly one From address to apply DMARC; Gmail rejects email whose From header is broken.",
        "Send with one From header holding one address at your own domain, e.g. From: Your App <hello@yourdomain>.",
    ),
    "email.send.date_invalid": _v(
        EM,
        M,
        Item.EMAIL_AUTH,
        "The email's Date header {problem}",
        "Receivers expect a valid Date (RFC 5322); a missing or wrong one is a spam signal.",
        "Let the mail library set Date itself (in the sender's time zone), and keep the server's clock in sync.",
    ),
    "email.send.message_id_invalid": _v(
        EM,
        M,
        Item.EMAIL_AUTH,
        "The email's Message-ID header {problem}",
        "Gmail rejects email without a valid Message-ID, and threading breaks.",
        "Let the mail library make the Message-ID, e.g. <unique-id@{domain}>.",
    ),
    "email.send.unsubscribe_missing": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "This bulk email has {problem}",
        "Gmail and Yahoo require bulk senders to offer one-click unsubscribe (RFC 8058); without it, marketing "
        "email is rejected or sent to spam.",
        "Add both headers to bulk email:\nList-Unsubscribe: <https://{domain}/unsubscribe/…>\n"
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    ),
    "email.send.malformed": _v(
        EM,
        M,
        Item.EMAIL_AUTH,
        "The email is not well-formed",
        "Its structure has defects ({defects}); receivers may show it wrongly or score it as spam.",
        "Build emails with the framework's mail library rather than by hand, and check the template's multipart "
        "boundaries and encodings.",
    ),
    "email.send.arc_broken": _v(
        EM,
        INFO,
        Item.EMAIL_AUTH,
        "A forwarder's seal on this email is broken (ARC, {sealer})",
        "The email passed through a forwarder (a mailing list, a forwarding address or a security gateway) that "
        "sealed it with ARC, a record of the SPF, DKIM and DMARC results it saw before it changed the email. The "
        "chain does not verify: {detail}. {consequence}",
        "Usually nothing to do at your end: the seal belongs to {sealer}. If your own emails pass through it (a "
        "gateway or list you run), have it seal after its last change to the message, with the key it publishes "
        "at <selector>._domainkey.{sealer}.",
    ),
    "email.send.arc_dns_failure": _v(
        EM,
        INFO,
        Item.EMAIL_AUTH,
        "A forwarder's ARC seal could not be checked ({sealer})",
        "{detail}. Receivers see a temporary error for the chain and judge the email on SPF, DKIM and DMARC alone.",
        "Nothing to fix at your end unless you run {sealer}; send the test again later.",
    ),
    "email.send.address_listed": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "The sending server {ip} is on a blocklist ({list})",
        "{list} lists {ip} as {meaning} (code {codes} from {zone}). Mail servers that use this list reject the "
        "email or send it to spam, however well it is authenticated. It usually happens when a hacked account or "
        "server sends spam from the address, when a shared address of a hosting provider is listed for another "
        "customer's mail, or when mail is sent to old or bought lists.",
        "Look {ip} up at {lookup}: it says why it is listed and how to ask for removal once the cause is fixed. "
        "On a shared address, ask the sending service for a clean one, or send through a mail service's own "
        "servers rather than from the app's host.",
    ),
    "email.send.link_listed": _v(
        EM,
        H,
        Item.EMAIL_AUTH,
        "This email links to {domain}, which is on a blocklist ({list})",
        "{list} lists {domain} as {meaning} (code {codes} from {zone}). Receivers that check the links in an email "
        "send it to spam or reject it, whoever sends it. The usual causes: a link shortener or tracking domain "
        "shared with spammers, a domain bought second-hand with a past, or a hacked site of yours that hosts spam "
        "pages.",
        "Look {domain} up at {lookup}, fix what it names and ask for removal there. Until it is removed, link to "
        "your own domain instead, and turn off a shared link shortener or tracking domain in the sending service.",
    ),
    "email.send.blocklist_unchecked": _v(
        EM,
        INFO,
        Item.EMAIL_AUTH,
        "{list} could not be checked for this email",
        "The blocklist at {zone} gave no usable answer for {what}: {reason}. This says nothing either way about a "
        "listing.",
        "Look {what} up yourself at {lookup}, or send the test again later.",
    ),
    # --- Secrets in public bundles and client repositories ------------------------------------------
    "secrets.bundle.key": _v(
        S,
        B,
        Item.SECRETS,
        "{a_provider} is public in {url}",
        "Anyone who opens the site can read this key ({key}) in the JavaScript it loads. With it they can act "
        "as your app with that provider: spend your money, read your customers' data or send messages in your "
        "name. Bots collect keys from public bundles within minutes of a deploy.",
        "Rotate the key now. {rotation}\nThen move the call that needs it to your server (an API route) and keep "
        "the new key in the host's environment settings, never in a variable the browser build includes "
        "(NEXT_PUBLIC_, VITE_, REACT_APP_, PUBLIC_).",
    ),
    "secrets.source_map.key": _v(
        S,
        B,
        Item.SECRETS,
        "{a_provider} is readable in the source map {url}",
        "The site publishes a source map whose original source code contains this key ({key}). Anyone can "
        "download it and use the key as your app would.",
        "Rotate the key now. {rotation}\nThen stop publishing source maps in production (Next.js: "
        "productionBrowserSourceMaps: false; Vite: build.sourcemap: false; webpack: devtool: false or "
        "'hidden-source-map' uploaded privately to your error tracker), and read the key on the server only.",
    ),
    "secrets.bundle.google_key": _v(
        S,
        M,
        Item.SECRETS,
        "A Google API key is public in {url}: restrict it",
        "Anyone who opens the site can read this key ({key}). A Google key in a web page is normal for Maps, "
        "but an unrestricted one works for every API enabled on its project, Gemini and the paid Maps APIs among "
        "them, from any site or script, and the bill comes to you.",
        GOOGLE_KEY_RESTRICTION,
    ),
    "secrets.bundle.firebase_key": _v(
        S,
        L,
        Item.SECRETS,
        "A Firebase web API key is public in {url}: restrict it",
        "This key ({key}) is part of the app's Firebase config, which every Firebase web app ships to the "
        "browser: what protects the data is App Check and the security rules, not the key. Unrestricted, though, "
        "the key also works for any other API enabled on its Google Cloud project (Gemini and the paid Maps APIs "
        "among them), from any site, and the bill comes to you.",
        FIREBASE_KEY_RESTRICTION,
    ),
    "secrets.bundle.publishable": _v(
        S,
        INFO,
        Item.SECRETS,
        "A publishable {provider} is in {url}",
        "This key ({key}) is meant to be public, so its presence is not a leak. What protects you is how it is "
        "restricted.",
        "Nothing to rotate. Check the key's restrictions at the provider: allowed domains or referrers, "
        "row-level security on every table (Supabase, Firebase rules), and that it is the live key you expect.",
    ),
    "secrets.repo.key": _v(
        S,
        B,
        Item.SECRETS,
        "{a_provider} is committed to the repository",
        "The key {key} is in {where}. Everyone who can read the repository, now or in any clone, fork or "
        "backup, has it; {history}",
        "Rotate the key now. {rotation}\nThen read it from the environment (document its name in "
        ".env.example) and, before the repository is shared further, rewrite history with git filter-repo.",
    ),
    "secrets.repo.google_key": _v(
        S,
        M,
        Item.SECRETS,
        "A Google API key is committed to the repository: restrict it",
        "The key {key} is in {where}. It may be a Maps or a Gemini key: unrestricted, it works for every API "
        "enabled on its Google Cloud project, from any site or script, and the bill comes to you. Everyone who "
        "can read the repository has it; {history}",
        GOOGLE_KEY_RESTRICTION
        + "\nThen read it from configuration rather than code (document its name in .env.example).",
    ),
    "secrets.repo.firebase_key": _v(
        S,
        L,
        Item.SECRETS,
        "A Firebase web API key is committed to the repository: restrict it",
        "The key {key} in {where} is part of the app's Firebase config, which every Firebase web app ships to "
        "the browser, so this is not a leak in itself. Unrestricted, though, the key also works for any other API "
        "enabled on its Google Cloud project (Gemini and the paid Maps APIs among them), and the bill comes to you.",
        FIREBASE_KEY_RESTRICTION,
    ),
    "secrets.repo.publishable": _v(
        S,
        INFO,
        Item.SECRETS,
        "A publishable {provider} is committed to the repository",
        "The key {key} in {where} is meant to be public, so this is not a leak.",
        "Nothing to rotate. Keep it in configuration rather than code so each environment can use its own.",
    ),
    "secrets.repo.env_file": _v(
        S,
        B,
        Item.SECRETS,
        "A .env file is committed: {path}",
        "{path} is in {where}. Environment files hold the app's passwords and keys; once committed they stay "
        "in git history even after the file is deleted.",
        "Rotate every value the file held, add .env to .gitignore, commit only a .env.example with the names "
        "(no values), and rewrite history with git filter-repo before sharing the repository.",
    ),
    "secrets.repo.unchecked": _v(
        S,
        L,
        Item.SECRETS,
        "{files} in the repository not checked for keys",
        "The scan opens the archives among the files (a zip inside the upload, a tar.gz committed to the "
        "repository) to look for keys inside them, but could not read these: {names}. A key in {them} would not "
        "have been found.",
        "Unpack {them} and scan what is inside, or, if no longer needed, delete {them} from the repository (git "
        "history keeps a deleted file: rewrite it with git filter-repo before sharing the repository).",
    ),
    "secrets.repo.debug": _v(
        S,
        H,
        Item.ENV_VARS,
        "Production settings left in debug mode: {path}",
        "{path} line {line} sets {setting}. In production a debug mode shows visitors stack traces, settings "
        "and sometimes an interactive console: a map of the app and often its secrets.",
        "{fix}",
    ),
    "env.undocumented": _v(
        S,
        M,
        Item.ENV_VARS,
        "{variables} used in code missing from .env.example",
        "The code reads {names}, but .env.example does not list them. Whoever deploys or takes over the app "
        "will not know to set them, and the app will start with something missing.",
        "Add these names to .env.example (names and a comment, never the real values):\n{lines}",
    ),
    "env.example_missing": _v(
        S,
        M,
        Item.ENV_VARS,
        "No .env.example: {variables} used in code undocumented",
        "The code reads {names} from the environment, and the repository has no .env.example saying which "
        "variables a deploy needs.",
        "Commit a .env.example at the root with one line per variable (names only, no values):\n{lines}",
    ),
    # --- Log hygiene in client repositories -------------------------------------------------------------
    "secrets.log.unchecked": _v(
        S,
        L,
        Item.SECRETS,
        "{files} not checked for logging leaks",
        "{names} {are} over {limit}, the most the log-hygiene check reads of one file, so the logging calls in "
        "them were not checked for passwords, tokens, keys, cookies or personal data. (Keys were still looked for.)",
        "Check the logging calls in these files by hand. A source file this large is usually generated or bundled: "
        "if it is, build it in CI rather than commit it; if it is written by hand, split it into smaller modules.",
    ),
    "secrets.log.password": _v(
        S,
        H,
        Item.SECRETS,
        "{path} logs a password: {logged}",
        "{call} on line {line}{more} writes {logged} to the logs. Logs are kept for weeks, copied to log services "
        "and read by more people and tools than the database; a password in them can be used by anyone who reads "
        "them.",
        "Take {logged} out of the log call and log who it concerns by id (user.id) instead, or a fixed "
        '"[redacted]" where the field must show. Treat the passwords already logged as exposed: purge or expire '
        "those log files and ask the users concerned to reset their passwords.",
    ),
    "secrets.log.token": _v(
        S,
        H,
        Item.SECRETS,
        "{path} logs a token: {logged}",
        "{call} on line {line}{more} writes {logged} to the logs. Whoever reads the logs, or a log service they "
        "are shipped to, can act as the user or the app with that token until it expires.",
        "Log an identifier instead (the user's or the session's id), or at most the token's first few characters; "
        "never the whole token. Revoke the tokens already written and purge those logs.",
    ),
    "secrets.log.api_key": _v(
        S,
        H,
        Item.SECRETS,
        "{path} logs an API key or secret: {logged}",
        "{call} on line {line}{more} writes {logged} to the logs. Every log store and log service that line reached "
        "now holds the key, and anyone who can read them can use it as the app does.",
        "Log the key's name, or its last 4 characters at most, never its value. Rotate the key at its provider, "
        "since it has been written out, and purge those logs.",
    ),
    "secrets.log.authorization": _v(
        S,
        H,
        Item.SECRETS,
        "{path} logs an Authorization header: {logged}",
        "{call} on line {line}{more} writes {logged} to the logs. The Authorization header carries the caller's "
        "token or password (Basic auth is only base64), so the logs hold working credentials.",
        "Log the scheme (Bearer, Basic) or the authenticated user's id, never the header's value. Revoke the "
        "tokens already logged and purge those logs.",
    ),
    "secrets.log.cookie": _v(
        S,
        H,
        Item.SECRETS,
        "{path} logs a cookie or session id: {logged}",
        "{call} on line {line}{more} writes {logged} to the logs. A session cookie is as good as a password while "
        "the session lasts: whoever reads it in the logs can take the session over.",
        "Log the user's id instead; where a cookie must be mentioned, log its name only. Sign out the sessions "
        "already logged and purge those logs.",
    ),
    "secrets.log.headers": _v(
        S,
        H,
        Item.SECRETS,
        "{path} logs whole request headers: {logged}",
        "{call} on line {line}{more} writes {logged} to the logs: every header, the Authorization header and the "
        "cookies among them, for every request that passes there.",
        "Log only the headers you need, by name (User-Agent, a request id), or redact Authorization, Cookie, "
        "Set-Cookie and X-Api-Key before logging the rest.",
    ),
    "secrets.log.request_body": _v(
        S,
        H,
        Item.SECRETS,
        "{path} logs a whole request body: {logged}",
        "{call} on line {line}{more} writes {logged} to the logs: whatever the client sent, which is a password on "
        "a sign-in form, a card number at checkout and personal details everywhere else.",
        "Log the fields you need by name (an id, a type, a count), or pass the body through a redaction that drops "
        "password, token, secret, card and email fields before it is logged.",
    ),
    "secrets.log.card": _v(
        S,
        H,
        Item.SECRETS,
        "{path} logs a card number: {logged}",
        "{call} on line {line}{more} writes {logged} to the logs. A card number must never be stored in the clear "
        "(PCI DSS), and log files are stored, copied and kept.",
        "Log the card's brand and last 4 digits at most, or the payment provider's id for it. Purge the logs that "
        "hold card numbers.",
    ),
    "secrets.log.email": _v(
        S,
        M,
        Item.SECRETS,
        "{path} logs an email address: {logged}",
        "{call} on line {line}{more} writes {logged} to the logs. An email address is personal data: logs keep it "
        "outside the app's retention and deletion rules, where an erasure request does not reach.",
        "Log the user's id instead, or a masked address (j•••@example.com) where a person must recognise it.",
    ),
    # --- The audit itself ---------------------------------------------------------------------------
    # --- AI assistant ----------------------------------------------------------------------------
    "assistant.leak.canary": _v(
        Area.ASSISTANT,
        H,
        Item.SECRETS,
        "The AI assistant reveals its hidden instructions",
        "Given a {category} prompt ({prompt_id}), the assistant answered with the canary planted in its "
        "instructions. Anyone can read what it was told, including any business rules, internal notes or "
        "keys pasted into its prompt, and use them to steer it.",
        "Keep secrets and internal notes out of the system prompt; add an instruction never to repeat it, "
        "and filter replies that contain the canary ({canary}) or long passages of the prompt before they "
        "reach the user. Re-run the probe to confirm.",
    ),
    "assistant.leak.key": _v(
        Area.ASSISTANT,
        H,
        Item.SECRETS,
        "The AI assistant hands out a {provider}",
        "Given a {category} prompt ({prompt_id}), the assistant replied with something shaped like a "
        "{provider} ({redacted}). Whoever reads it can spend on the account or reach its data.",
        "Rotate that key now. Keys belong in the server's environment, never in the prompt or in tool "
        "output the model can read; have tools return results, not credentials.",
    ),
    "assistant.leak.personal_data": _v(
        Area.ASSISTANT,
        H,
        Item.SECRETS,
        "The AI assistant discloses other people's details",
        "Given a {category} prompt ({prompt_id}), the assistant answered with {count} email address(es) that were "
        "not in the question ({examples}). One customer can read another's records: a data breach to report.",
        "Scope every tool and database query the assistant uses to the signed-in user, on the server; never "
        "rely on the prompt to keep records apart. Re-run the probe to confirm.",
    ),
    "assistant.timeout": _v(
        Area.ASSISTANT,
        M,
        Item.UPTIME,
        "The AI assistant hangs instead of answering",
        "{count} of {sent} messages got no answer within {seconds} s. When the model is slow or down, users "
        "stare at a spinner and each stuck request holds a server worker.",
        "Put a timeout (10-20 s) on the call to the model provider and answer with a friendly "
        '"try again" message when it passes; stream the reply if answers are long.',
    ),
    "assistant.error": _v(
        Area.ASSISTANT,
        M,
        Item.UPTIME,
        "The AI assistant answers with errors",
        "{count} of {sent} messages got an error instead of a reply ({detail}). A model timeout or provider "
        "error reaches the user as a broken chat.",
        "Catch provider errors and timeouts on the server, retry once, and reply with a clear message; check "
        "that the answer is at {answer_path} in the response.",
    ),
    "assistant.unreachable": _v(
        Area.ASSISTANT,
        M,
        Item.UPTIME,
        "The AI assistant's endpoint cannot be reached",
        "The probe could not reach {url}: {detail}. Either the endpoint moved or it is not public.",
        "Check the chat endpoint in the assistant settings, and that it answers from the internet.",
    ),
    "assistant.probed": _v(
        Area.ASSISTANT,
        INFO,
        Item.SECRETS,
        "AI assistant probed with {sent} red-team messages",
        "Categories tried: {categories}. Replies were checked for the canary, key-shaped strings and "
        "email addresses that were not in the question.",
        "Nothing to do; re-run after each change to the assistant's prompt or tools.",
    ),
    # --- Customer journeys (the latest run of each of the client's journeys) ----------------------------
    "journey.sign_in.failing": _v(
        RT,
        B,
        Item.UPTIME,
        "Customers cannot sign in: the journey “{journey}” fails: {summary}",
        "The latest run of “{journey}” ({trigger}) failed at step {number} of {steps}, “{step}”. {detail} Until "
        "a run passes, a customer who signs in does not get into the app, and nothing behind sign-in is theirs.",
        JOURNEY_FIX,
    ),
    "journey.path.failing": _v(
        RT,
        H,
        Item.UPTIME,
        "A customer path is broken: the journey “{journey}” fails: {summary}",
        "The latest run of “{journey}” ({trigger}) failed at step {number} of {steps}, “{step}”. {detail} The "
        "journey does not sign in with the test account's password, so signing in itself is not shown broken: "
        "the customers who take this path meet the same failure.",
        JOURNEY_FIX,
    ),
    "audit.check_failed": _v(
        A,
        M,
        Item.HANDOVER,
        "Part of the audit could not run: {check}",
        "{detail}. The other results are complete; run the audit again to fill this gap.",
        "Re-run the audit. If it fails again, the network or the target may be blocking it.",
    ),
    "audit.no_route_reached": _v(
        A,
        H,
        Item.UPTIME,
        "No route of {domain} could be reached",
        "{tried}, so the app itself could not be checked: this audit cannot say go.",
        "Fix what the route findings name (DNS, the address, HTTPS), then run the audit again.",
    ),
    "audit.deadline": _v(
        A,
        M,
        Item.HANDOVER,
        "The audit ran out of time",
        "It stopped after {seconds} seconds; checks still running were cut short: {checks}.",
        "Re-run the audit; if it happens again, look for hosts that answer very slowly.",
    ),
}


# What it costs when a route answers with the wrong status, by the route's kind ({impact} above).
ROUTE_IMPACT: dict[str, str] = {
    Route.Kind.LOGIN: "Nobody can sign in.",
    Route.Kind.DASHBOARD: "Signed-in users cannot reach the app.",
    Route.Kind.API_HEALTH: "Monitors and the mobile app will treat the API as down.",
    Route.Kind.CHECKOUT: "Customers cannot pay.",
}
OTHER_ROUTE_IMPACT = "Visitors to this page get an error."


def route_impact(kind: str) -> str:
    return ROUTE_IMPACT.get(kind, OTHER_ROUTE_IMPACT)


# Findings that say part of the audit could not check what it set out to: while one is open, the verdict
# is "could not check", never go (a blocker still makes it no-go).
COULD_NOT_CHECK = frozenset(
    {
        "audit.check_failed",
        "audit.deadline",
        "audit.no_route_reached",
        "dns.host.failure",
        "dns.ns.refused",
        "email.spf.dns_failure",
        "email.dmarc.dns_failure",
        "email.dkim.dns_failure",
        "headers.unchecked",
        "dns.caa.dns_failure",
    }
)


# One diagnosis that stands for everything else the audit would have said (its findings are folded under it).
DIAGNOSES = frozenset({"dns.domain.missing", "dns.domain.unreachable"})

# The Launch Ready items a finding leaves unseen: while it is open, no finding there does not mean clean.
_WEB_ITEMS = frozenset({Item.SSL, Item.REDIRECTS, Item.CACHING, Item.CLOUDFLARE})
UNSEEN_ITEMS: dict[str, frozenset[Item]] = {
    **dict.fromkeys(DIAGNOSES, frozenset(Item)),
    "dns.host.refused": _WEB_ITEMS,
    "audit.no_route_reached": _WEB_ITEMS,
    "headers.unchecked": frozenset({Item.REDIRECTS, Item.CACHING, Item.CLOUDFLARE}),
}


def verdict_of(findings: Iterable[tuple[str, str]]) -> LaunchVerdict:
    """Go, no-go or could not check, from the (check id, severity) of the open findings."""
    unchecked = False
    for check_id, severity in findings:
        if severity == Severity.BLOCKER.value:
            return LaunchVerdict.NO_GO
        unchecked = unchecked or check_id in COULD_NOT_CHECK
    return LaunchVerdict.UNCHECKED if unchecked else LaunchVerdict.GO


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "…"


class _Formatter(string.Formatter):
    """Fills "{domain}'s" with the possessive the value takes: "brightpath.test's", but "example.news'"."""

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        return super().vformat(_POSSESSIVE.sub(r"{\1!p}", format_string), args, kwargs)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        return possessive(str(value)) if conversion == "p" else super().convert_field(value, conversion)


_POSSESSIVE = re.compile(r"\{(\w+)\}'s\b")


def render(finding: Finding) -> dict[str, str]:
    """Title, explanation and fix of a finding, with its params filled in."""
    verdict = CATALOG[finding.check_id]
    values = _Blank({k: _text(v) for k, v in finding.params.items()})
    formatter = _Formatter()
    return {
        "title": formatter.vformat(verdict.title, (), values),
        "explanation": formatter.vformat(verdict.explanation, (), values),
        "fix": formatter.vformat(verdict.fix, (), values),
    }


def severity_of(finding: Finding) -> Severity:
    return finding.severity or CATALOG[finding.check_id].severity


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)
