// URL and URLSearchParams, after WPT's url/ tests (url-constructor, url-setters,
// url-searchparams, urlsearchparams-*): exact strings as the URL Standard gives them.
import {
  test, assert_equals, assert_array_equals, assert_throws_js, assert_true, assert_false,
  assert_not_equals,
} from "./harness.js";

const BASE = "http://example.org/foo/bar";

function check(url, expected) {
  for (const [key, value] of Object.entries(expected)) {
    assert_equals(url[key], value, key);
  }
}

function entries(params) {
  return [...params].map(([k, v]) => `${k}=${v}`);
}

// --- Parsing (url-constructor / urltestdata) ------------------------------------------------

test(() => {
  check(new URL("http://user:pass@foo:21/bar;par?b#c", BASE), {
    href: "http://user:pass@foo:21/bar;par?b#c",
    origin: "http://foo:21",
    protocol: "http:",
    username: "user",
    password: "pass",
    host: "foo:21",
    hostname: "foo",
    port: "21",
    pathname: "/bar;par",
    search: "?b",
    hash: "#c",
  });
}, "URL: every component of an absolute URL");

test(() => {
  assert_equals(new URL("http://example\t.\norg", BASE).href, "http://example.org/");
  assert_equals(new URL("  \t  :foo.com   \n", BASE).href, "http://example.org/foo/:foo.com");
  assert_equals(new URL("http://f:21/ b ? d # e ", BASE).href, "http://f:21/%20b%20?%20d%20#%20e");
  assert_equals(new URL("http://f:00000000000000/c", BASE).href, "http://f:0/c");
  assert_equals(new URL("https://test:@test").href, "https://test@test/");
  assert_equals(new URL("http://ExAmPlE.CoM:80/").href, "http://example.com/");
}, "URL: tabs and newlines removed, spaces trimmed, ports and hosts normalized");

test(() => {
  assert_equals(new URL("//foo/bar", BASE).href, "http://foo/bar");
  assert_equals(new URL("?x", BASE).href, "http://example.org/foo/bar?x");
  assert_equals(new URL("#x", BASE).href, "http://example.org/foo/bar#x");
  assert_equals(new URL("../x", BASE).href, "http://example.org/x");
  assert_equals(new URL("./x/../y", BASE).href, "http://example.org/foo/y");
  assert_equals(new URL("/a/./b/../c", BASE).href, "http://example.org/a/c");
  assert_equals(new URL("\\x\\y", BASE).href, "http://example.org/x/y");
  assert_equals(new URL("", BASE).href, BASE);
  assert_equals(new URL("https:x", BASE).href, "https://x/");
  assert_equals(new URL("http:x", BASE).href, "http://example.org/foo/x");
  assert_equals(new URL("b", new URL("http://a/x/")).href, "http://a/x/b");
  assert_equals(new URL("#y", "mailto:x@y").href, "mailto:x@y#y");
}, "URL: relative references against a base");

test(() => {
  assert_equals(new URL("http://example.com/foo/%2e%2").pathname, "/foo/%2e%2");
  assert_equals(new URL("http://example.com/foo/%2e./%2e%2e/bar").pathname, "/bar");
  assert_equals(new URL("http://example.com////../..").href, "http://example.com//");
  assert_equals(new URL("http://example.com/你好你好").pathname, "/%E4%BD%A0%E5%A5%BD%E4%BD%A0%E5%A5%BD");
  assert_equals(new URL("http://example.com/a b{c}`d|e").pathname, "/a%20b%7Bc%7D%60d|e");
  assert_equals(new URL("http://example.com/?a'b\"c<d>e f`g{h}").search, "?a%27b%22c%3Cd%3Ee%20f`g{h}");
  assert_equals(new URL("sc://example.com/?a'b").search, "?a'b", "' kept in non-special query");
  assert_equals(new URL("http://example.com/#a\"b<c>d`e f{g}").hash, "#a%22b%3Cc%3Ed%60e%20f{g}");
  assert_equals(new URL("http://example.com/?q=ü").search, "?q=%C3%BC");
  assert_equals(new URL("http://example.com/%zz%41").pathname, "/%zz%41");
}, "URL: percent-encoding of path, query and fragment");

test(() => {
  assert_equals(new URL("http://example.com/\uD800x").pathname, "/%EF%BF%BDx");
  assert_equals(new URL("http://example.com/?\uDC00").search, "?%EF%BF%BD");
  assert_equals(new URL("http://example.com/#\uD83D").hash, "#%EF%BF%BD");
}, "URL: lone surrogates become U+FFFD");

test(() => {
  assert_equals(new URL("http://[1:0::]").href, "http://[1::]/");
  assert_equals(new URL("http://[::127.0.0.1]").href, "http://[::7f00:1]/");
  assert_equals(new URL("http://[0:0:0:0:0:0:13.1.68.3]").href, "http://[::d01:4403]/");
  assert_equals(new URL("http://[2001:DB8:0:0:8:800:200C:417A]:8080/").host, "[2001:db8::8:800:200c:417a]:8080");
  assert_equals(new URL("http://[::1]/").hostname, "[::1]");
  assert_throws_js(TypeError, () => new URL("http://[::1.2.3.]"));
  assert_throws_js(TypeError, () => new URL("http://[::1"));
}, "URL: IPv6 hosts");

test(() => {
  assert_equals(new URL("http://0x7f.1/").host, "127.0.0.1");
  assert_equals(new URL("http://4294967295").host, "255.255.255.255");
  assert_equals(new URL("http://0300.0250.0.1/").host, "192.168.0.1");
  assert_throws_js(TypeError, () => new URL("http://4294967296"));
  assert_throws_js(TypeError, () => new URL("http://192.168.0.257"));
  assert_throws_js(TypeError, () => new URL("http://1.2.3.4.5"));
}, "URL: IPv4 hosts");

test(() => {
  assert_equals(new URL("http://münchen.de/").host, "xn--mnchen-3ya.de");
  assert_equals(new URL("http://faß.ExAmPlE/").href, "http://xn--fa-hia.example/");
  assert_equals(new URL("http://Ｇｏ.com").href, "http://go.com/");
  assert_equals(new URL("http://xn--mnchen-3ya.de/").hostname, "xn--mnchen-3ya.de");
  assert_equals(new URL("sc://ñ.test/").host, "%C3%B1.test");
  assert_throws_js(TypeError, () => new URL("http://a b/"));
  assert_throws_js(TypeError, () => new URL("http://exa%23mple.org"));
}, "URL: domain to ASCII (IDNA), opaque hosts");

test(() => {
  assert_equals(new URL("http://example.com:80/").port, "");
  assert_equals(new URL("https://example.com:443/").href, "https://example.com/");
  assert_equals(new URL("ws://example.com:80/").href, "ws://example.com/");
  assert_equals(new URL("wss://example.com:443/").href, "wss://example.com/");
  assert_equals(new URL("ftp://example.com:21/").href, "ftp://example.com/");
  assert_equals(new URL("http://example.com:443/").port, "443");
  assert_equals(new URL("sc://example.com:80/").port, "80");
  assert_throws_js(TypeError, () => new URL("http://example.com:65536"));
  assert_throws_js(TypeError, () => new URL("http://f:b/c", BASE));
}, "URL: default ports are dropped, bad ports fail");

test(() => {
  assert_equals(new URL("file://localhost/foo").href, "file:///foo");
  assert_equals(new URL("file:c:\\foo\\bar.html", "file:///tmp/mock/path").href, "file:///c:/foo/bar.html");
  assert_equals(new URL("..", "file:///C:/").href, "file:///C:/");
  assert_equals(new URL("/", "file:///C:/a/b").href, "file:///C:/");
  assert_equals(new URL("file:///foo/../../bar").href, "file:///bar");
  assert_equals(new URL("file://example.com/x").host, "example.com");
  assert_equals(new URL("file:///x").origin, "null");
}, "URL: file URLs");

test(() => {
  check(new URL("data:text/plain,hello world"), { pathname: "text/plain,hello world", origin: "null", host: "" });
  assert_equals(new URL("non-spec:/.//p").href, "non-spec:/.//p");
  assert_equals(new URL("non-spec:/.//p").pathname, "//p");
  assert_equals(new URL("javascript:alert(1)").origin, "null");
  assert_equals(new URL("blob:https://example.com/uuid").origin, "https://example.com");
  assert_equals(new URL("https://user:pass@example.com:8443/p").origin, "https://example.com:8443");
  assert_equals(new URL("ftp://example.com/").origin, "ftp://example.com");
}, "URL: non-special URLs and origins");

test(() => {
  assert_throws_js(TypeError, () => new URL("x"), "relative without base", "URL constructor: x is not a valid URL.");
  assert_throws_js(TypeError, () => new URL(""), "empty", "URL constructor:  is not a valid URL.");
  assert_throws_js(TypeError, () => new URL("/a", "nope"), "bad base", "URL constructor: nope is not a valid URL.");
  assert_throws_js(TypeError, () => new URL("a", "mailto:x@y"), "opaque base", "URL constructor: a is not a valid URL.");
  assert_throws_js(TypeError, () => new URL("http://"), "no host");
  assert_throws_js(TypeError, () => new URL("//x"), "scheme-relative without base");
  assert_throws_js(TypeError, () => new URL(), "no argument", "URL constructor: At least 1 argument required, but only 0 passed");
  assert_throws_js(TypeError, () => URL("http://a/"), "called without new");
  assert_equals(new URL("http://a/", undefined).href, "http://a/", "undefined base is no base");
  assert_throws_js(TypeError, () => new URL("/x", null), "null base is the string null");
}, "URL: failures throw TypeError with the URL in the message");

test(() => {
  const u = new URL("http://a/b c?d#e");
  assert_equals(u.toString(), "http://a/b%20c?d#e");
  assert_equals(String(u), u.href);
  assert_equals(u.toJSON(), u.href);
  assert_equals(JSON.stringify({ u }), '{"u":"http://a/b%20c?d#e"}');
  assert_equals(new URL(u).href, u.href, "a URL as input is stringified");
  assert_equals(Object.prototype.toString.call(u), "[object Object]", "no @@toStringTag, as on Compute");
  assert_equals(URL.length, 1);
  assert_equals(URL.name, "URL");
}, "URL: toString, toJSON, stringification");

test(() => {
  const desc = Object.getOwnPropertyDescriptor(URL.prototype, "href");
  assert_equals(typeof desc.get, "function");
  assert_equals(typeof desc.set, "function");
  assert_true(desc.enumerable);
  assert_equals(Object.getOwnPropertyDescriptor(URL.prototype, "origin").set, undefined);
  assert_equals(Object.getOwnPropertyDescriptor(URL.prototype, "searchParams").set, undefined);
  assert_throws_js(TypeError, () => desc.get.call({}), "getter brand check",
    "Method 'href' called on receiver that's not an instance of URL");
  assert_throws_js(TypeError, () => URL.prototype.toString.call(Object.create(URL.prototype)), "method brand check",
    "Method 'toString' called on receiver that's not an instance of URL");
  const u = new URL("http://a/");
  assert_throws_js(TypeError, () => { u.origin = "http://b"; }, "origin is read-only");
  assert_throws_js(TypeError, () => { u.searchParams = new URLSearchParams(); }, "searchParams is read-only");
}, "URL: accessors and brand checks");

test(() => {
  class MyURL extends URL {
    get extra() { return this.host; }
  }
  const u = new MyURL("http://sub.example/?q=1");
  assert_true(u instanceof MyURL);
  assert_equals(u.extra, "sub.example");
  assert_equals(u.searchParams.get("q"), "1");
}, "URL: subclassing");

// --- Setters (url-setters / setters_tests) ---------------------------------------------------

test(() => {
  let u = new URL("a://example.net");
  u.protocol = "";
  assert_equals(u.href, "a://example.net");
  u.protocol = "B";
  assert_equals(u.href, "b://example.net");
  u = new URL("http://foo.com:443/");
  u.protocol = "https";
  assert_equals(u.href, "https://foo.com/", "default port of the new scheme dropped");
  u = new URL("http://example.net");
  u.protocol = "b";
  assert_equals(u.href, "http://example.net/", "special to non-special refused");
  u.protocol = "https:foo : bar";
  assert_equals(u.href, "https://example.net/", "everything after : ignored");
  u = new URL("mailto:me@example.net");
  u.protocol = "http";
  assert_equals(u.href, "mailto:me@example.net");
  u = new URL("ssh://me@example.net");
  u.protocol = "http";
  assert_equals(u.href, "ssh://me@example.net");
  u = new URL("file://localhost/");
  u.protocol = "http";
  assert_equals(u.href, "file:///");
}, "URL setters: protocol");

test(() => {
  let u = new URL("http://example.net");
  u.username = "me";
  assert_equals(u.href, "http://me@example.net/");
  u = new URL("http://:secret@example.net");
  u.username = "me";
  assert_equals(u.href, "http://me:secret@example.net/");
  u = new URL("http://me@example.net");
  u.username = "";
  assert_equals(u.href, "http://example.net/");
  u = new URL("mailto:you@example.net");
  u.username = "me";
  assert_equals(u.href, "mailto:you@example.net");
  u = new URL("file://test/");
  u.username = "test";
  assert_equals(u.href, "file://test/");
  u = new URL("http://example.net");
  u.username = "\u0000\u0001\t\n\r\u001f !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\u007f\u0080\u0081Éé";
  assert_equals(u.username, "%00%01%09%0A%0D%1F%20!%22%23$%&'()*+,-.%2F09%3A%3B%3C%3D%3E%3F%40AZ%5B%5C%5D%5E_%60az%7B%7C%7D~%7F%C2%80%C2%81%C3%89%C3%A9");
}, "URL setters: username");

test(() => {
  let u = new URL("http://example.net");
  u.password = "secret";
  assert_equals(u.href, "http://:secret@example.net/");
  u = new URL("http://me:secret@example.net");
  u.password = "";
  assert_equals(u.href, "http://me@example.net/");
  u = new URL("http://example.net");
  u.password = "a:b@c";
  assert_equals(u.password, "a%3Ab%40c");
}, "URL setters: password");

test(() => {
  let u = new URL("http://example.net");
  u.host = "example.com:8080";
  assert_equals(u.href, "http://example.com:8080/");
  u = new URL("http://example.net:8080");
  u.host = "example.com";
  assert_equals(u.href, "http://example.com:8080/", "port kept when none given");
  u = new URL("http://example.net/path");
  u.host = "example.com/stuff";
  assert_equals(u.href, "http://example.com/path");
  u = new URL("http://example.net/path");
  u.host = "example.com:8080stuff2";
  assert_equals(u.href, "http://example.com:8080/path");
  u = new URL("http://example.net:8080/");
  u.host = "example.com:80";
  assert_equals(u.href, "http://example.com/", "default port dropped");
  u = new URL("http://example.net");
  u.host = "";
  assert_equals(u.href, "http://example.net/", "special URLs need a host");
  u = new URL("sc://x/");
  u.host = "";
  assert_equals(u.href, "sc:///");
  u = new URL("mailto:me@example.net");
  u.host = "example.com";
  assert_equals(u.href, "mailto:me@example.net");
  u = new URL("http://example.net");
  u.host = "[::1]:81";
  assert_equals(u.href, "http://[::1]:81/");
  u = new URL("http://example.net");
  u.host = "münchen.de";
  assert_equals(u.host, "xn--mnchen-3ya.de");
}, "URL setters: host");

test(() => {
  let u = new URL("http://example.net:8080/path");
  u.hostname = "example.com";
  assert_equals(u.href, "http://example.com:8080/path");
  u = new URL("http://example.net/path");
  u.hostname = "example.com/stuff";
  assert_equals(u.href, "http://example.com/path");
  u = new URL("http://example.net");
  u.hostname = "";
  assert_equals(u.href, "http://example.net/");
  u = new URL("http://example.net");
  u.hostname = "a b";
  assert_equals(u.href, "http://example.net/", "an invalid host is ignored");
}, "URL setters: hostname");

test(() => {
  let u = new URL("http://example.net:8080");
  u.port = "";
  assert_equals(u.href, "http://example.net/");
  u = new URL("http://example.net");
  u.port = "8080stuff";
  assert_equals(u.href, "http://example.net:8080/");
  u.port = "80";
  assert_equals(u.href, "http://example.net/");
  u = new URL("http://example.net:8080");
  u.port = "65536";
  assert_equals(u.href, "http://example.net:8080/", "out of range ignored");
  u = new URL("file://localhost/");
  u.port = "12";
  assert_equals(u.href, "file:///");
  u = new URL("unix:/run/foo.socket");
  u.port = "8080";
  assert_equals(u.href, "unix:/run/foo.socket");
  u = new URL("http://example.net");
  u.port = 8081;
  assert_equals(u.port, "8081", "numbers are stringified");
}, "URL setters: port");

test(() => {
  let u = new URL("http://example.net/home?lang=fr#nav");
  u.pathname = "\\a\\%2E\\b\\%2e.\\c";
  assert_equals(u.href, "http://example.net/a/c?lang=fr#nav");
  u = new URL("mailto:me@example.net");
  u.pathname = "/foo";
  assert_equals(u.href, "mailto:me@example.net");
  u = new URL("unix:/run/foo.socket?timeout=10");
  u.pathname = "/var/log/../run/bar.socket";
  assert_equals(u.href, "unix:/var/run/bar.socket?timeout=10");
  u = new URL("http://example.net");
  u.pathname = "?";
  assert_equals(u.href, "http://example.net/%3F");
  u.pathname = "#";
  assert_equals(u.href, "http://example.net/%23");
  u.pathname = "a b";
  assert_equals(u.pathname, "/a%20b");
}, "URL setters: pathname");

test(() => {
  let u = new URL("https://example.net#nav");
  u.search = "lang=fr";
  assert_equals(u.href, "https://example.net/?lang=fr#nav");
  u = new URL("https://example.net?lang=en-US#nav");
  u.search = "?";
  assert_equals(u.href, "https://example.net/?#nav");
  assert_equals(u.search, "");
  u.search = "";
  assert_equals(u.href, "https://example.net/#nav");
  u.search = "??lang=fr";
  assert_equals(u.href, "https://example.net/??lang=fr#nav");
  u.search = "a=b c'd";
  assert_equals(u.search, "?a=b%20c%27d");
}, "URL setters: search");

test(() => {
  let u = new URL("https://example.net");
  u.hash = "main";
  assert_equals(u.href, "https://example.net/#main");
  u.hash = "#";
  assert_equals(u.href, "https://example.net/#");
  assert_equals(u.hash, "");
  u.hash = "";
  assert_equals(u.href, "https://example.net/");
  u.hash = "#foo bar`";
  assert_equals(u.hash, "#foo%20bar%60");
  u = new URL("data:space ?query");
  u.hash = "x";
  assert_equals(u.href, "data:space ?query#x");
}, "URL setters: hash");

test(() => {
  const u = new URL("http://a/b?c=d");
  const params = u.searchParams;
  u.href = "https://x.test:8443/p?q=1#f";
  check(u, { protocol: "https:", host: "x.test:8443", pathname: "/p", search: "?q=1", hash: "#f" });
  assert_equals(params.get("q"), "1");
  assert_false(params.has("c"));
  assert_throws_js(TypeError, () => { u.href = "foo"; }, "invalid href", "URL.href setter: foo is not a valid URL.");
  assert_equals(u.href, "https://x.test:8443/p?q=1#f", "unchanged after a failed set");
}, "URL setters: href");

// --- URL and its searchParams -----------------------------------------------------------------

test(() => {
  const url = new URL("http://example.org/?a=b");
  assert_true(url.searchParams instanceof URLSearchParams);
  assert_equals(url.searchParams, url.searchParams, "the same object every time");
  const params = url.searchParams;
  assert_equals(params.get("a"), "b");
  url.search = "e=f&g=h";
  assert_equals(params.get("a"), null);
  assert_equals(params.get("e"), "f");
  params.append("i", " j ");
  assert_equals(url.search, "?e=f&g=h&i=+j+");
  assert_equals(url.href, "http://example.org/?e=f&g=h&i=+j+");
  params.set("e", "updated");
  assert_equals(url.search, "?e=updated&g=h&i=+j+");
  url.search = "";
  assert_equals(params.toString(), "");
  assert_equals([...params].length, 0);
  url.href = "http://example.org/?x=1";
  assert_equals(params.get("x"), "1");
}, "URL.searchParams follows search and href, and the other way round");

test(() => {
  const url = new URL("http://example.com/#frag");
  url.searchParams.append("a", "b");
  assert_equals(url.href, "http://example.com/?a=b#frag");
  const url2 = new URL("http://x/?a=b%20c");
  assert_equals(url2.searchParams.toString(), "a=b+c");
  assert_equals(url2.search, "?a=b%20c", "not re-serialized until the params change");
  url2.searchParams.append("d", "~");
  assert_equals(url2.search, "?a=b+c&d=%7E");
}, "URLSearchParams updates keep the fragment and re-serialize the query");

test(() => {
  let url = new URL("http://example.com/?param1&param2");
  url.searchParams.delete("param1");
  url.searchParams.delete("param2");
  assert_equals(url.href, "http://example.com/");
  assert_equals(url.search, "");
  url = new URL("http://example.com/?");
  url.searchParams.delete("param1");
  assert_equals(url.href, "http://example.com/");
  url = new URL("http://example.com/?");
  url.searchParams.sort();
  assert_equals(url.href, "http://example.com/", "sorting nothing removes the ?");
}, "URLSearchParams: emptying the list removes the query");

test(() => {
  let url = new URL("data:space    ?test");
  assert_true(url.searchParams.has("test"));
  url.searchParams.delete("test");
  assert_false(url.searchParams.has("test"));
  assert_equals(url.search, "");
  assert_equals(url.pathname, "space");
  assert_equals(url.href, "data:space");
  url = new URL("data:space    ?test#test");
  url.searchParams.delete("test");
  assert_equals(url.pathname, "space    ");
  assert_equals(url.href, "data:space    #test");
}, "URLSearchParams: removing the query of an opaque path strips trailing spaces (no fragment)");

test(() => {
  const url = new URL("http://example.com/?z=b&a=b&z=a&a=a");
  url.searchParams.sort();
  assert_equals(url.search, "?a=b&a=a&z=b&z=a");
}, "URLSearchParams.sort updates the URL");

// --- URLSearchParams constructor --------------------------------------------------------------

test(() => {
  assert_equals(new URLSearchParams().toString(), "");
  assert_equals(new URLSearchParams("").toString(), "");
  assert_equals(new URLSearchParams({}).toString(), "");
  assert_equals(new URLSearchParams(undefined).toString(), "");
  assert_equals(new URLSearchParams(null).toString(), "null=");
  assert_equals(new URLSearchParams("?a=b").toString(), "a=b");
  assert_equals(new URLSearchParams("??a=b").toString(), "%3Fa=b");
  assert_equals(new URLSearchParams("a=b&&c=d&").toString(), "a=b&c=d");
  assert_equals(new URLSearchParams("a").toString(), "a=");
  assert_equals(new URLSearchParams("=b").get(""), "b");
  assert_equals(URLSearchParams.length, 0);
  assert_throws_js(TypeError, () => URLSearchParams(""), "called without new");
}, "URLSearchParams constructor: strings");

test(() => {
  assert_equals(new URLSearchParams("a=b+c").get("a"), "b c");
  assert_equals(new URLSearchParams("a+b=c").get("a b"), "c");
  assert_equals(new URLSearchParams("a=b%20c").get("a"), "b c");
  assert_equals(new URLSearchParams("a=b%2Bc").get("a"), "b+c");
  assert_equals(new URLSearchParams("a=b\0c").get("a"), "b\0c");
  assert_equals(new URLSearchParams("a=b%00c").get("a"), "b\0c");
  assert_equals(new URLSearchParams("a=b%f0%9f%92%a9c").get("a"), "b\uD83D\uDCA9c");
  assert_equals(new URLSearchParams("a=%").get("a"), "%");
  assert_equals(new URLSearchParams("a=%zz").get("a"), "%zz");
  assert_equals(new URLSearchParams("a=%ff").get("a"), "\uFFFD", "invalid UTF-8 is replaced");
  assert_equals(new URLSearchParams("%C3%A9=%e2%82%AC").get("é"), "€");
  assert_equals(new URLSearchParams("a=ü").get("a"), "ü");
}, "URLSearchParams constructor: decoding");

test(() => {
  const a = new URLSearchParams("a=b&c=d");
  const b = new URLSearchParams(a);
  assert_equals(b.toString(), "a=b&c=d");
  b.append("e", "f");
  assert_equals(a.toString(), "a=b&c=d", "the copy is independent");
  assert_equals(new URLSearchParams(new URL("http://x/?q=1").searchParams).toString(), "q=1");
}, "URLSearchParams constructor: another URLSearchParams");

test(() => {
  const p = new URLSearchParams([["a", "b"], ["c", "d"], ["a", "e"]]);
  assert_equals(p.toString(), "a=b&c=d&a=e");
  assert_array_equals(p.getAll("a"), ["b", "e"]);
  assert_equals(new URLSearchParams([]).toString(), "");
  assert_equals(new URLSearchParams([[1, 2]]).toString(), "1=2");
  assert_equals(new URLSearchParams([new Set(["x", "y"])]).toString(), "x=y", "inner iterables");
  const custom = { *[Symbol.iterator]() { yield ["k", "v"]; yield ["k2", "v2"]; } };
  assert_equals(new URLSearchParams(custom).toString(), "k=v&k2=v2");
  assert_equals(new URLSearchParams(new Map([["m", "n"]])).toString(), "m=n");
}, "URLSearchParams constructor: sequences of pairs");

test(() => {
  const msg = "URLSearchParams constructor: expected name/value pair to be length 2";
  assert_throws_js(TypeError, () => new URLSearchParams([["a"]]), "one item", msg);
  assert_throws_js(TypeError, () => new URLSearchParams([["a", "b", "c"]]), "three items", msg);
  assert_throws_js(TypeError, () => new URLSearchParams([[]]), "empty pair", msg);
  assert_throws_js(TypeError, () => new URLSearchParams(["ab"]), "a string is not a pair");
  assert_throws_js(TypeError, () => new URLSearchParams([1]), "a number is not a pair");
  assert_throws_js(TypeError, () => new URLSearchParams({ [Symbol.iterator]: 1 }), "non-callable @@iterator");
}, "URLSearchParams constructor: pairs must be of length 2");

test(() => {
  assert_equals(new URLSearchParams({ a: "b", c: 1 }).toString(), "a=b&c=1");
  const p = new URLSearchParams({ "+": "%C2" });
  assert_equals(p.get("+"), "%C2");
  assert_equals(p.toString(), "%2B=%25C2");
  const proto = { inherited: "no" };
  const own = Object.create(proto);
  own.mine = "yes";
  Object.defineProperty(own, "hidden", { value: "no", enumerable: false });
  assert_equals(new URLSearchParams(own).toString(), "mine=yes", "own enumerable only");
  assert_equals(new URLSearchParams({ 2: "x", 1: "y", b: "z" }).toString(), "1=y&2=x&b=z", "property order");
  assert_throws_js(TypeError, () => new URLSearchParams({ [Symbol("s")]: "x" }), "symbol key");
}, "URLSearchParams constructor: records");

test(() => {
  const pairs = new URLSearchParams([["\uD835x", "1"], ["xx", "2"], ["\uD83Dx", "3"]]);
  assert_equals(pairs.toString(), "%EF%BF%BDx=1&xx=2&%EF%BF%BDx=3");
  const record = new URLSearchParams({ "\uD835x": "1", xx: "2", "\uD83Dx": "3" });
  assert_equals(record.toString(), "%EF%BF%BDx=3&xx=2", "keys equal as USVStrings merge");
  const p = new URLSearchParams();
  p.append("a\uDC00", "\uD800b");
  assert_equals(p.get("a\uFFFD"), "\uFFFDb");
  assert_equals(p.toString(), "a%EF%BF%BD=%EF%BF%BDb");
}, "URLSearchParams: lone surrogates become U+FFFD");

// --- URLSearchParams methods ------------------------------------------------------------------

test(() => {
  const p = new URLSearchParams();
  p.append("a", "b c");
  p.append("a b", "c");
  p.append("e", "");
  p.append("", "f");
  p.append("g", "h=i&j");
  p.append("k", "*-._~!'()+%\0");
  p.append("l", "\uD83D\uDCA9é");
  assert_equals(p.toString(), "a=b+c&a+b=c&e=&=f&g=h%3Di%26j&k=*-._%7E%21%27%28%29%2B%25%00&l=%F0%9F%92%A9%C3%A9");
  const n = new URLSearchParams();
  n.append(1, null);
  n.append(undefined, true);
  assert_equals(n.toString(), "1=null&undefined=true");
}, "URLSearchParams.append and toString (urlencoded serializer)");

test(() => {
  const p = new URLSearchParams("a=b&c=d&a=e&=x");
  assert_equals(p.get("a"), "b");
  assert_equals(p.get("c"), "d");
  assert_equals(p.get("z"), null);
  assert_equals(p.get(""), "x");
  assert_array_equals(p.getAll("a"), ["b", "e"]);
  assert_array_equals(p.getAll("z"), []);
  assert_equals(new URLSearchParams("a=&c=d&a=e").get("a"), "");
  assert_true(p.has("a"));
  assert_false(p.has("A"), "names are case-sensitive");
  assert_true(p.has("a", "e"));
  assert_false(p.has("a", "c"));
  assert_true(p.has("a", undefined), "undefined value is no value");
  const q = new URLSearchParams("a=b&a=d&c&e&");
  assert_true(q.has("c", ""));
  assert_false(q.has("f", ""));
}, "URLSearchParams.get, getAll and has");

test(() => {
  let p = new URLSearchParams("a=b&c=d&a=e");
  p.set("a", "B");
  assert_equals(p.toString(), "a=B&c=d", "first kept, others removed");
  p.set("e", "f");
  assert_equals(p.toString(), "a=B&c=d&e=f");
  p = new URLSearchParams("a=b&a=c&a=d&b=e");
  p.delete("a", "c");
  assert_equals(p.toString(), "a=b&a=d&b=e");
  p.delete("a");
  assert_equals(p.toString(), "b=e");
  p = new URLSearchParams("a=1&a=2");
  p.delete("a", undefined);
  assert_equals(p.toString(), "", "undefined value deletes every a");
  p = new URLSearchParams("a=1&b=2&a=3");
  assert_equals([...p].length, 3);
  p.delete("a");
  assert_equals([...p].length, 1);
}, "URLSearchParams.set and delete");

test(() => {
  const cases = [
    ["z=b&a=b&z=a&a=a", ["a=b", "a=a", "z=b", "z=a"]],
    ["\uFFFD=x&\uFFFC&\uFFFD=a", ["\uFFFC=", "\uFFFD=x", "\uFFFD=a"]],
    ["ﬃ&🌈", ["🌈=", "ﬃ="]],
    ["é&e\uFFFD&e\u0301", ["e\u0301=", "e\uFFFD=", "é="]],
    ["z=z&a=a&z=y&a=b&z=x&a=c&z=w&a=d&z=v&a=e&z=u&a=f&z=t&a=g",
      ["a=a", "a=b", "a=c", "a=d", "a=e", "a=f", "a=g", "z=z", "z=y", "z=x", "z=w", "z=v", "z=u", "z=t"]],
    ["bbb&bb&aaa&aa=x&aa=y", ["aa=x", "aa=y", "aaa=", "bb=", "bbb="]],
    ["z=z&=f&=t&=x", ["=f", "=t", "=x", "z=z"]],
    ["a🌈&a💩", ["a🌈=", "a💩="]],
  ];
  for (const [input, expected] of cases) {
    const p = new URLSearchParams(input);
    p.sort();
    assert_array_equals(entries(p), expected, input);
  }
}, "URLSearchParams.sort: stable, by UTF-16 code units");

test(() => {
  const p = new URLSearchParams("a=1&b=2&c=3");
  const seen = [];
  const self = {};
  p.forEach(function (value, key, obj) {
    seen.push(`${key}:${value}`);
    assert_equals(obj, p);
    assert_equals(this, self);
  }, self);
  assert_array_equals(seen, ["a:1", "b:2", "c:3"]);
  assert_throws_js(TypeError, () => p.forEach(), "no callback");
  assert_throws_js(TypeError, () => p.forEach(1), "not callable");
}, "URLSearchParams.forEach");

test(() => {
  const p = new URLSearchParams("a=1&b=2&a=3");
  assert_array_equals([...p.keys()], ["a", "b", "a"]);
  assert_array_equals([...p.values()], ["1", "2", "3"]);
  assert_array_equals([...p.entries()].map((e) => e.join("=")), ["a=1", "b=2", "a=3"]);
  assert_array_equals(entries(p), ["a=1", "b=2", "a=3"]);
  assert_equals(URLSearchParams.prototype[Symbol.iterator], URLSearchParams.prototype.entries);
  const it = p.keys();
  assert_equals(Object.prototype.toString.call(it), "[object URLSearchParams Iterator]");
  const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
  assert_equals(Object.getPrototypeOf(Object.getPrototypeOf(it)), iteratorPrototype);
  assert_equals(it[Symbol.iterator](), it);
  assert_false(Object.hasOwn(Object.getPrototypeOf(it), "constructor"));
  let r = it.next();
  assert_equals(r.value, "a");
  assert_false(r.done);
  it.next();
  it.next();
  r = it.next();
  assert_true(r.done);
  assert_equals(r.value, undefined);
  assert_throws_js(TypeError, () => Object.getPrototypeOf(it).next.call({}));
  assert_equals(Object.prototype.toString.call(p), "[object Object]", "no @@toStringTag, as on Compute");
}, "URLSearchParams: keys, values, entries and the iterator objects");

test(() => {
  const a = new URL("http://a.b/c?a=1&b=2&c=3&d=4");
  const seen = [];
  for (const pair of a.searchParams) {
    a.search = "x=1&y=2&z=3";
    seen.push(pair.join("="));
  }
  assert_array_equals(seen, ["a=1", "y=2", "z=3"]);
}, "URLSearchParams iteration is live: changing the URL's search while iterating");

test(() => {
  let url = new URL("http://localhost/query?param0=0&param1=1&param2=2");
  let seen = [];
  for (const param of url.searchParams) {
    if (param[0] === "param0") url.searchParams.delete("param1");
    seen.push(param.join("="));
  }
  assert_array_equals(seen, ["param0=0", "param2=2"], "delete next");
  url = new URL("http://localhost/query?param0=0&param1=1&param2=2");
  seen = [];
  for (const param of url.searchParams) {
    url.searchParams.delete(param[0]);
    seen.push(param.join("="));
  }
  assert_array_equals(seen, ["param0=0", "param2=2"], "delete every param seen");
  assert_equals(url.search, "?param1=1");
  seen = [];
  new URLSearchParams("a=1&b=2").forEach(function (v, k, p) {
    if (k === "a") p.append("c", "3");
    seen.push(k);
  });
  assert_array_equals(seen, ["a", "b", "c"], "forEach sees appended pairs");
  assert_array_equals([...new URL("http://example.com/").searchParams], [], "empty");
}, "URLSearchParams iteration is live: deleting while iterating");

test(() => {
  const p = new URLSearchParams("a=1");
  const get = URLSearchParams.prototype.get;
  assert_throws_js(TypeError, () => get.call({}, "a"), "brand check",
    "Method 'get' called on receiver that's not an instance of URLSearchParams");
  assert_throws_js(TypeError, () => get.call(Object.create(URLSearchParams.prototype), "a"), "prototype is not an instance");
  assert_throws_js(TypeError, () => p.append("a"), "too few",
    "URLSearchParams.append: At least 2 arguments required, but only 1 passed");
  assert_throws_js(TypeError, () => p.get(), "too few",
    "URLSearchParams.get: At least 1 argument required, but only 0 passed");
  assert_throws_js(TypeError, () => Object.getOwnPropertyDescriptor(URLSearchParams.prototype, "size").get.call(new URL("http://a/")), "size brand check");
  assert_equals(URLSearchParams.prototype.append.length, 2);
  assert_equals(URLSearchParams.prototype.forEach.length, 1);
  assert_true(Object.getOwnPropertyDescriptor(URLSearchParams.prototype, "append").enumerable);
}, "URLSearchParams: brand checks, argument counts and method shapes");

test(() => {
  let u = new URL("data:space    #fragment");
  u.hash = "";
  assert_equals(u.href, "data:space");
  assert_equals(u.pathname, "space");
  u = new URL("data:space    ?query");
  u.search = "";
  assert_equals(u.href, "data:space");
  u = new URL("data:space    ?query#f");
  u.search = "";
  assert_equals(u.href, "data:space    #f", "kept while a fragment follows");
}, "URL setters: clearing search or hash strips an opaque path's trailing spaces");

test(() => {
  const u = new URL("http://a/?x=1");
  const p = u.searchParams;
  u.search = "?";
  assert_equals([...p].length, 0);
  assert_equals(u.href, "http://a/?");
  assert_equals(new URL("", "http://a/b?c#d").href, "http://a/b?c");
  assert_equals(new URL("http://a/b?c#d").searchParams.toString(), "c=");
  assert_equals(new URL("HTTP://EXAMPLE.com/%7e?%7e#%7e").href, "http://example.com/%7e?%7e#%7e", "escapes kept as written");
  assert_equals(new URL("https://example.com/./a/.%2E/b").pathname, "/b");
  const v = new URL("http://example.com/");
  v.searchParams.append("q", "a b&c=d/é");
  assert_equals(v.href, "http://example.com/?q=a+b%26c%3Dd%2F%C3%A9");
  assert_equals(String(v.searchParams), "q=a+b%26c%3Dd%2F%C3%A9");
}, "URL: query edge cases");

test(() => {
  // As on Compute (js-compute 3.46).
  assert_equals(URL.canParse, undefined);
  assert_equals(URL.parse, undefined);
  assert_equals("size" in URLSearchParams.prototype, false);
  assert_equals(JSON.rawJSON, undefined);
  assert_equals(Promise.try, undefined);
  assert_equals(String.prototype.normalize, undefined);
}, "members Compute lacks are absent");
