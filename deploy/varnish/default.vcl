vcl 4.1;

# Varnish in front of Paywall (docs/edge-cache.md). Anonymous readers' article and list
# pages come from the cache; any request carrying the paywall's session or remember-me
# cookie goes to the app as it came, and nothing the app marks private is ever stored.
# The app decides what may be kept (Cache-Control: public, s-maxage, Surrogate-Key);
# this file only refuses to store anything else, and turns the app's purges into bans.

backend paywall {
    .host = "127.0.0.1";
    .port = "8000";
}

# Who may purge: the app's hosts (PAYWALL_PURGE_URLS names this cache).
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "BAN") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (req.http.Paywall-Purge-Keys !~ "^[a-z0-9-]+( [a-z0-9-]+)*$") {
            return (synth(400, "Paywall-Purge-Keys must list keys separated by spaces"));
        }
        # Objects carry their keys as ",all,article-42," (vcl_backend_response).
        ban("obj.http.x-paywall-keys ~ ,(" + regsuball(req.http.Paywall-Purge-Keys, " ", "|") + "),");
        return (synth(200, "Banned"));
    }
    # A reader's own request: never looked up, never stored, cookies untouched.
    if (req.http.Cookie ~ "(^|;)\s*(session|remember_token)=") {
        return (pass);
    }
    # The paywall reads no other cookie: without them every anonymous request for a
    # page is the same request (and the app sees exactly what the cache keys on).
    unset req.http.Cookie;
    # On to the built-in rules: only GET and HEAD are looked up, Authorization passes.
}

sub vcl_backend_response {
    # Store only what the app says anyone may have; the built-in rules that follow also
    # refuse anything with Set-Cookie, private, no-store or no-cache.
    if (beresp.http.Cache-Control !~ "(?i)(^|[ ,])public([ ,]|$)") {
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    if (beresp.http.Surrogate-Key) {
        set beresp.http.x-paywall-keys = "," + regsuball(beresp.http.Surrogate-Key, " +", ",") + ",";
    }
    # Keep an expired page a while longer to revalidate it with If-None-Match (a 304
    # from the app refreshes it without sending the page again).
    set beresp.keep = 10m;
}

sub vcl_deliver {
    unset resp.http.x-paywall-keys;
    unset resp.http.Surrogate-Key;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } elsif (obj.uncacheable) {
        set resp.http.X-Cache = "PASS";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
