// What Java's KeyStore API sees in a keystore, for many keystores through one JVM.
//
//   javac -d DIR KeystoreJudge.java && java -cp DIR KeystoreJudge
//
// Reads one request per line on stdin and answers each on stdout. Every field is hex-encoded
// UTF-8 (so passwords, aliases and paths may hold tabs, newlines or any character), or "-"
// for null; fields are separated by tabs.
//
//   LOAD <path> <storetype|-> <storepass|-> [<alias> <keypass>]...
//
// A storetype of "-" loads as keytool does when none is given: KeyStore.getInstance(File,
// char[]), which probes the format. The answer is either
//
//   ERR <message>                    (the exception keytool would report: class: message)
//
// or
//
//   OK <type> <count>
//   E <alias> <kind> <created> <sha256s> <key>     (one line per alias, as aliases() lists them)
//   END
//
// kind is what keytool -list prints (PrivateKeyEntry, SecretKeyEntry, trustedCertEntry,
// Unknown); created is the creation date in ms since the epoch, or "now" when it lies within
// the load (PKCS12 entries without a stored date get the load time); sha256s are the
// SHA-256 fingerprints of the chain (private key) or the certificate (trusted), comma
// separated, "-" for none; key is the outcome of KeyStore.getKey with the entry's key
// password (the store password unless given): "ok:<algorithm>", "fail:<exception class>", or
// "-" for a certificate entry or when there is no password to try. Unencoded fields: type,
// count, kind, created, sha256s, key.
//
//   QUIT   ends the program.

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.Key;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

public class KeystoreJudge {
    private static final HexFormat HEX = HexFormat.of();

    private static String dec(String field) {
        if (field.equals("-")) {
            return null;
        }
        return new String(HEX.parseHex(field), StandardCharsets.UTF_8);
    }

    private static String enc(String s) {
        return HEX.formatHex(s.getBytes(StandardCharsets.UTF_8));
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split("\t", -1);
            switch (f[0]) {
                case "QUIT" -> {
                    out.flush();
                    return;
                }
                case "PING" -> out.println("PONG " + System.getProperty("java.version"));
                case "LOAD" -> {
                    StringBuilder answer = new StringBuilder();
                    try {
                        load(f, answer);
                    } catch (Throwable e) {
                        answer.setLength(0);
                        answer.append("ERR\t").append(enc(describe(e))).append('\n');
                    }
                    out.print(answer);
                }
                default -> out.println("ERR\t" + enc("unknown request " + f[0]));
            }
            out.flush();
        }
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(e.getClass().getName());
        if (e.getMessage() != null) {
            sb.append(": ").append(e.getMessage());
        }
        return sb.toString().replace('\n', ' ');
    }

    private static void load(String[] f, StringBuilder answer) throws Exception {
        File file = new File(dec(f[1]));
        String type = dec(f[2]);
        String storepassText = dec(f[3]);
        char[] storepass = storepassText == null ? null : storepassText.toCharArray();
        Map<String, char[]> keypass = new HashMap<>();
        for (int i = 4; i + 1 < f.length; i += 2) {
            keypass.put(dec(f[i]), dec(f[i + 1]).toCharArray());
        }
        long started = System.currentTimeMillis();
        KeyStore ks;
        if (type == null) {
            ks = KeyStore.getInstance(file, storepass);
        } else {
            ks = KeyStore.getInstance(type);
            ks.load(new ByteArrayInputStream(Files.readAllBytes(file.toPath())), storepass);
        }
        long loaded = System.currentTimeMillis();
        List<String> aliases = new ArrayList<>(Collections.list(ks.aliases()));
        answer.append("OK\t").append(ks.getType()).append('\t').append(ks.size()).append('\n');
        for (String alias : aliases) {
            String kind;
            List<Certificate> certs = new ArrayList<>();
            if (ks.entryInstanceOf(alias, KeyStore.SecretKeyEntry.class)) {
                kind = "SecretKeyEntry";
            } else if (ks.entryInstanceOf(alias, KeyStore.PrivateKeyEntry.class)) {
                kind = "PrivateKeyEntry";
                Certificate[] chain = ks.getCertificateChain(alias);
                if (chain != null) {
                    Collections.addAll(certs, chain);
                }
            } else if (ks.entryInstanceOf(alias, KeyStore.TrustedCertificateEntry.class)) {
                kind = "trustedCertEntry";
                certs.add(ks.getCertificate(alias));
            } else {
                kind = "Unknown";
            }
            String created;
            java.util.Date d = ks.getCreationDate(alias);
            if (d == null) {
                created = "-";
            } else if (d.getTime() >= started && d.getTime() <= loaded) {
                created = "now";
            } else {
                created = Long.toString(d.getTime());
            }
            List<String> fps = new ArrayList<>();
            for (Certificate c : certs) {
                fps.add(HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded())).toUpperCase());
            }
            String key = "-";
            if (ks.isKeyEntry(alias)) {
                char[] pw = keypass.getOrDefault(alias, storepass);
                if (pw != null) {
                    try {
                        Key k = ks.getKey(alias, pw);
                        key = "ok:" + (k == null ? "null" : k.getAlgorithm());
                    } catch (Exception e) {
                        key = "fail:" + e.getClass().getName();
                    }
                }
            }
            answer.append("E\t").append(enc(alias)).append('\t').append(kind).append('\t')
                    .append(created).append('\t').append(fps.isEmpty() ? "-" : String.join(",", fps))
                    .append('\t').append(key).append('\n');
        }
        answer.append("END\n");
    }
}
