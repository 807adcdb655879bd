//! Skips one Java serialization stream, as JCEKS stores a secret-key entry: the entry has no
//! length prefix, so its end is only known by walking the stream's grammar.
//!
//! This is a skipper, not a deserializer: it recognises just the shapes that
//! `ObjectOutputStream.writeObject(SealedObjectForKeyProtector)` produces (ordinary
//! serializable objects, class descriptors, strings, primitive arrays, references, null)
//! and fails closed with `Unsupported` on any other token. Guessing wrong would misplace
//! every following entry, and the file could then not be written back faithfully.
//!
//! It also checks what `JceKeyStore.engineLoad` checks while it deserializes (its
//! `DeserializationChecker` filter and `ObjectInputStream`'s class checks), so that a file
//! Java refuses with "Invalid secret key format" is named as such: the object must be a
//! `com.sun.crypto.provider.SealedObjectForKeyProtector` (with Java's serialVersionUID) whose
//! superclass is `javax.crypto.SealedObject` or absent, and whose field values are null,
//! strings or `byte[]`, with the field types Java declares.

use crate::keystore::KeystoreError;

const STREAM_MAGIC: [u8; 4] = [0xAC, 0xED, 0x00, 0x05];

const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_STRING: u8 = 0x74;
const TC_ARRAY: u8 = 0x75;
const TC_ENDBLOCKDATA: u8 = 0x78;

const SC_WRITE_METHOD: u8 = 0x01;
const SC_SERIALIZABLE: u8 = 0x02;
const SC_EXTERNALIZABLE: u8 = 0x04;
const SC_ENUM: u8 = 0x10;

/// Handles are numbered from this value in each stream.
const BASE_HANDLE: u32 = 0x007E_0000;

/// The classes Java's JCEKS loader accepts, with the serialVersionUIDs of the JDK.
const SEALED_KEY_CLASS: &[u8] = b"com.sun.crypto.provider.SealedObjectForKeyProtector";
const SEALED_KEY_SUID: [u8; 8] = (-3_650_226_485_480_866_989_i64).to_be_bytes();
const SEALED_OBJECT_CLASS: &[u8] = b"javax.crypto.SealedObject";
const SEALED_OBJECT_SUID: [u8; 8] = 4_482_838_265_551_344_752_i64.to_be_bytes();
const BYTE_ARRAY_CLASS: &[u8] = b"[B";
const BYTE_ARRAY_SUID: [u8; 8] = (-5_984_413_125_824_719_648_i64).to_be_bytes();
/// javax.crypto.SealedObject's serializable fields: (name, type signature).
const SEALED_OBJECT_FIELDS: [(&[u8], &[u8]); 4] = [
    (b"encodedParams", b"[B"),
    (b"encryptedContent", b"[B"),
    (b"paramsAlg", b"Ljava/lang/String;"),
    (b"sealAlg", b"Ljava/lang/String;"),
];

/// A sealed key nests three levels deep; anything far deeper is not what JCEKS writes, and
/// the bound keeps hostile input from exhausting the stack.
const MAX_DEPTH: usize = 32;
/// Longest superclass chain accepted (SealedObjectForKeyProtector has two classes). It also
/// bounds the work one small object reference can cause.
const MAX_HIERARCHY: usize = 16;

#[derive(Debug, Clone, Copy)]
enum Handle {
    /// A class descriptor whose superclass is still being read: it cannot be used as a class
    /// yet, which rules out cyclic hierarchies.
    PendingClass,
    Class(usize),
    /// Index into `Skipper::strings`.
    String(usize),
    Other,
}

#[derive(Debug, Clone, Copy)]
enum Field {
    Primitive(usize),
    Object,
}

#[derive(Debug)]
struct ClassDesc {
    name: Vec<u8>,
    suid: [u8; 8],
    flags: u8,
    fields: Vec<Field>,
    /// Per field: its name and type signature (the code, or `[..`/`L..;` for objects).
    signatures: Vec<(Vec<u8>, Vec<u8>)>,
    superclass: Option<usize>,
    /// Number of classes from this one up to the top of its hierarchy.
    hierarchy: usize,
    /// For an array class (`[X`): the element width if X is a primitive type, else None.
    array: Option<Option<usize>>,
}

fn primitive_width(code: u8) -> Option<usize> {
    match code {
        b'B' | b'Z' => Some(1),
        b'C' | b'S' => Some(2),
        b'I' | b'F' => Some(4),
        b'J' | b'D' => Some(8),
        _ => None,
    }
}

fn token_name(t: u8) -> &'static str {
    match t {
        0x76 => "TC_CLASS",
        0x77 => "TC_BLOCKDATA",
        0x79 => "TC_RESET",
        0x7A => "TC_BLOCKDATALONG",
        0x7B => "TC_EXCEPTION",
        0x7C => "TC_LONGSTRING",
        0x7D => "TC_PROXYCLASSDESC",
        0x7E => "TC_ENUM",
        TC_ENDBLOCKDATA => "TC_ENDBLOCKDATA",
        _ => "an unknown token",
    }
}

struct Skipper<'a> {
    data: &'a [u8],
    pos: usize,
    /// One slot per handle the stream has assigned; each costs at least one input byte.
    handles: Vec<Handle>,
    classes: Vec<ClassDesc>,
    /// The strings the stream defined (they are bounded by the input).
    strings: Vec<&'a [u8]>,
    /// What the values of the top-level object's fields are, as Java's filter sees them.
    top_values: Vec<Value>,
}

/// The kind of one object field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// Null, a string or a back-reference: not filtered by Java.
    Unfiltered,
    /// A new object or array, of this class.
    Of(usize),
}

/// One skipped stream: where it ends, and why Java's JCEKS loader would reject it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub end: usize,
    /// None when the object is a sealed key as Java reads it; else what it is instead.
    pub java_rejects: Option<String>,
}

/// Skips the serialization stream that starts at `data[start..]` and returns the offset just
/// after it. Offsets in errors are from the start of `data` (the keystore file).
pub fn skip_stream(data: &[u8], start: usize) -> Result<Skipped, KeystoreError> {
    let mut s = Skipper {
        data,
        pos: start,
        handles: Vec::new(),
        classes: Vec::new(),
        strings: Vec::new(),
        top_values: Vec::new(),
    };
    let magic = s.take(4, "the serialization stream header")?;
    if magic != STREAM_MAGIC {
        return Err(KeystoreError::Malformed(format!(
            "the secret key at offset {start:#x} is not a Java serialization stream (it starts with {magic:02X?}, not AC ED 00 05)"
        )));
    }
    let at = s.pos;
    let class = match s.peek()? {
        TC_OBJECT => s.skip_content(0)?,
        t => {
            return Err(KeystoreError::Unsupported(format!(
                "the secret key at offset {at:#x} starts with token {t:#04x} ({}), not a serialized object",
                token_name(t)
            )))
        }
    };
    let java_rejects = class.and_then(|c| s.java_rejects(c));
    Ok(Skipped {
        end: s.pos,
        java_rejects,
    })
}

fn show(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

impl<'a> Skipper<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], KeystoreError> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        match rest.get(..n) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(KeystoreError::Truncated(format!(
                "{what} at offset {:#x} in a serialized secret key needs {n} bytes, only {} remain",
                self.pos,
                rest.len()
            ))),
        }
    }

    fn peek(&self) -> Result<u8, KeystoreError> {
        self.data.get(self.pos).copied().ok_or_else(|| {
            KeystoreError::Truncated(format!(
                "a serialized secret key is cut off at offset {:#x}",
                self.pos
            ))
        })
    }

    fn u8(&mut self, what: &str) -> Result<u8, KeystoreError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, KeystoreError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, KeystoreError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn utf(&mut self, what: &str) -> Result<&'a [u8], KeystoreError> {
        let n = self.u16(what)?;
        self.take(usize::from(n), what)
    }

    fn malformed(&self, at: usize, why: impl std::fmt::Display) -> KeystoreError {
        KeystoreError::Malformed(format!("serialized secret key, offset {at:#x}: {why}"))
    }

    fn unsupported(&self, at: usize, why: impl std::fmt::Display) -> KeystoreError {
        KeystoreError::Unsupported(format!("serialized secret key, offset {at:#x}: {why}"))
    }

    fn check_depth(&self, depth: usize) -> Result<(), KeystoreError> {
        if depth > MAX_DEPTH {
            return Err(self.unsupported(
                self.pos,
                format!("objects nested more than {MAX_DEPTH} deep"),
            ));
        }
        Ok(())
    }

    fn new_handle(&mut self, h: Handle) -> usize {
        self.handles.push(h);
        self.handles.len() - 1
    }

    fn reference(&mut self) -> Result<Handle, KeystoreError> {
        let at = self.pos;
        let raw = self.u32("a handle")?;
        raw.checked_sub(BASE_HANDLE)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.handles.get(i).copied())
            .ok_or_else(|| {
                self.malformed(
                    at,
                    format!("reference to handle {raw:#x}, which was never assigned"),
                )
            })
    }

    /// Why Java's loader rejects a top-level object of class `class`, if it does.
    fn java_rejects(&self, class: usize) -> Option<String> {
        let c = self.classes.get(class)?;
        if c.name != SEALED_KEY_CLASS {
            return Some(format!("a serialized {}", show(&c.name)));
        }
        if c.suid != SEALED_KEY_SUID {
            return Some(format!(
                "a {} with serialVersionUID {}, not Java's",
                show(&c.name),
                i64::from_be_bytes(c.suid)
            ));
        }
        if c.flags & (SC_SERIALIZABLE | SC_EXTERNALIZABLE) != SC_SERIALIZABLE {
            return Some(format!(
                "a {} with class flags {:#04x}",
                show(&c.name),
                c.flags
            ));
        }
        if let Some(sup) = c.superclass.and_then(|s| self.classes.get(s)) {
            if sup.name != SEALED_OBJECT_CLASS || sup.superclass.is_some() {
                return Some(format!(
                    "a sealed key whose superclass is {}, not javax.crypto.SealedObject",
                    show(&sup.name)
                ));
            }
            if sup.suid != SEALED_OBJECT_SUID {
                return Some(format!(
                    "a sealed key whose javax.crypto.SealedObject has serialVersionUID {}, not Java's",
                    i64::from_be_bytes(sup.suid)
                ));
            }
            for (name, sig) in &sup.signatures {
                if let Some((_, want)) = SEALED_OBJECT_FIELDS.iter().find(|(n, _)| n == name) {
                    if sig != want {
                        return Some(format!(
                            "a sealed key whose field {} is declared {}, not {}",
                            show(name),
                            show(sig),
                            show(want)
                        ));
                    }
                }
            }
        }
        for v in &self.top_values {
            if let Value::Of(id) = v {
                let Some(vc) = self.classes.get(*id) else {
                    continue;
                };
                if vc.name != BYTE_ARRAY_CLASS {
                    return Some(format!(
                        "a sealed key holding a {} (Java's filter allows only byte[] there)",
                        show(&vc.name)
                    ));
                }
                if vc.suid != BYTE_ARRAY_SUID {
                    return Some(
                        "a sealed key holding a byte[] with another serialVersionUID".into(),
                    );
                }
            }
        }
        None
    }

    /// One `content` of the grammar that may stand where an object value is expected;
    /// returns the class of a new object or array.
    fn skip_content(&mut self, depth: usize) -> Result<Option<usize>, KeystoreError> {
        self.check_depth(depth)?;
        let at = self.pos;
        match self.peek()? {
            TC_NULL => {
                self.pos += 1;
                Ok(None)
            }
            TC_REFERENCE => {
                self.pos += 1;
                // Any earlier handle, even an object still being read, is a valid back-reference.
                self.reference().map(|_| None)
            }
            TC_CLASSDESC => self.class_desc(depth).map(|_| None),
            TC_STRING => {
                self.pos += 1;
                let s = self.utf("a string")?;
                self.strings.push(s);
                self.new_handle(Handle::String(self.strings.len() - 1));
                Ok(None)
            }
            TC_OBJECT => {
                self.pos += 1;
                self.object(at, depth).map(Some)
            }
            TC_ARRAY => {
                self.pos += 1;
                self.array(at, depth).map(Some)
            }
            t => Err(self.unsupported(
                at,
                format!(
                    "token {t:#04x} ({}) is not used by JCEKS secret keys",
                    token_name(t)
                ),
            )),
        }
    }

    fn object(&mut self, at: usize, depth: usize) -> Result<usize, KeystoreError> {
        let Some(class) = self.class_desc(depth + 1)? else {
            return Err(self.malformed(at, "an object without a class"));
        };
        if self.classes.get(class).is_some_and(|c| c.array.is_some()) {
            return Err(self.malformed(at, "an object whose class is an array class"));
        }
        self.new_handle(Handle::Other);
        // Class data is written from the topmost superclass down.
        let mut chain = Vec::new();
        let mut next = Some(class);
        while let Some(id) = next {
            if chain.len() >= MAX_HIERARCHY {
                return Err(
                    self.unsupported(at, format!("a class hierarchy deeper than {MAX_HIERARCHY}"))
                );
            }
            chain.push(id);
            next = self.classes.get(id).and_then(|c| c.superclass);
        }
        for &id in chain.iter().rev() {
            let Some(c) = self.classes.get(id) else {
                continue;
            };
            if c.flags & (SC_WRITE_METHOD | SC_EXTERNALIZABLE | SC_ENUM) != 0
                || c.flags & SC_SERIALIZABLE == 0
            {
                return Err(self.unsupported(
                    at,
                    format!("class flags {:#04x}: only plain Serializable classes without writeObject are read", c.flags),
                ));
            }
            // Copy the (small) field list out: reading values borrows self mutably.
            let fields = c.fields.clone();
            for f in fields {
                match f {
                    Field::Primitive(w) => {
                        self.take(w, "a primitive field value")?;
                    }
                    Field::Object => {
                        let value = self.skip_content(depth + 1)?;
                        if depth == 0 {
                            self.top_values
                                .push(value.map_or(Value::Unfiltered, Value::Of));
                        }
                    }
                }
            }
        }
        Ok(class)
    }

    fn array(&mut self, at: usize, depth: usize) -> Result<usize, KeystoreError> {
        let Some(class) = self.class_desc(depth + 1)? else {
            return Err(self.malformed(at, "an array without a class"));
        };
        let width = match self.classes.get(class).and_then(|c| c.array) {
            Some(Some(w)) => w,
            Some(None) => {
                return Err(
                    self.unsupported(at, "an array of objects (only primitive arrays are read)")
                )
            }
            None => return Err(self.malformed(at, "an array whose class is not an array class")),
        };
        self.new_handle(Handle::Other);
        let size_at = self.pos;
        let size = self.u32("an array length")?;
        if size > i32::MAX as u32 {
            return Err(self.malformed(size_at, format!("negative array length {}", size as i32)));
        }
        let bytes = usize::try_from(size)
            .ok()
            .and_then(|n| n.checked_mul(width))
            .ok_or_else(|| self.malformed(size_at, "array length overflows"))?;
        self.take(bytes, "array elements").map(|_| class)
    }

    /// A `classDesc`: a new descriptor, a reference to one, or null.
    fn class_desc(&mut self, depth: usize) -> Result<Option<usize>, KeystoreError> {
        self.check_depth(depth)?;
        let at = self.pos;
        match self.u8("a class descriptor")? {
            TC_NULL => Ok(None),
            TC_REFERENCE => match self.reference()? {
                Handle::Class(id) => Ok(Some(id)),
                Handle::PendingClass => {
                    Err(self.malformed(at, "a class descriptor refers to itself"))
                }
                _ => Err(self.malformed(
                    at,
                    "a reference where a class descriptor is expected points to something else",
                )),
            },
            TC_CLASSDESC => self.new_class_desc(depth).map(Some),
            t => Err(self.unsupported(
                at,
                format!(
                    "token {t:#04x} ({}) where a class descriptor is expected",
                    token_name(t)
                ),
            )),
        }
    }

    fn new_class_desc(&mut self, depth: usize) -> Result<usize, KeystoreError> {
        let name = self.utf("a class name")?;
        let mut suid = [0u8; 8];
        suid.copy_from_slice(self.take(8, "a serialVersionUID")?);
        let handle = self.new_handle(Handle::PendingClass);
        let flags = self.u8("class flags")?;
        let count_at = self.pos;
        let count = self.u16("a field count")?;
        if count > i16::MAX as u16 {
            return Err(self.malformed(count_at, format!("negative field count {}", count as i16)));
        }
        // Pushed one by one: every field costs at least three input bytes.
        let mut fields = Vec::new();
        let mut signatures = Vec::new();
        for _ in 0..count {
            let code_at = self.pos;
            let code = self.u8("a field type code")?;
            let field_name = self.utf("a field name")?;
            let (field, signature) = match code {
                b'[' | b'L' => (Field::Object, self.field_class_name(depth)?.to_vec()),
                c => (
                    Field::Primitive(primitive_width(c).ok_or_else(|| {
                        self.malformed(code_at, format!("unknown field type code {c:#04x}"))
                    })?),
                    vec![c],
                ),
            };
            fields.push(field);
            signatures.push((field_name.to_vec(), signature));
        }
        // classAnnotation: objects written by annotateClass, up to TC_ENDBLOCKDATA.
        loop {
            if self.peek()? == TC_ENDBLOCKDATA {
                self.pos += 1;
                break;
            }
            self.skip_content(depth + 1)?;
        }
        let superclass = self.class_desc(depth + 1)?;
        let hierarchy = 1 + superclass
            .and_then(|s| self.classes.get(s))
            .map_or(0, |s| s.hierarchy);
        if hierarchy > MAX_HIERARCHY {
            return Err(self.unsupported(
                self.pos,
                format!("a class hierarchy deeper than {MAX_HIERARCHY}"),
            ));
        }
        let array = match name {
            [b'[', code] => Some(primitive_width(*code)),
            [b'[', ..] => Some(None),
            _ => None,
        };
        self.classes.push(ClassDesc {
            name: name.to_vec(),
            suid,
            flags,
            fields,
            signatures,
            superclass,
            hierarchy,
            array,
        });
        let id = self.classes.len() - 1;
        if let Some(slot) = self.handles.get_mut(handle) {
            *slot = Handle::Class(id);
        }
        Ok(id)
    }

    /// The type string of an object field: a new string or a reference to one.
    fn field_class_name(&mut self, depth: usize) -> Result<&'a [u8], KeystoreError> {
        self.check_depth(depth)?;
        let at = self.pos;
        match self.u8("a field class name")? {
            TC_STRING => {
                let s = self.utf("a field class name")?;
                self.strings.push(s);
                self.new_handle(Handle::String(self.strings.len() - 1));
                Ok(s)
            }
            TC_REFERENCE => match self.reference()? {
                Handle::String(i) => Ok(self.strings.get(i).copied().unwrap_or_default()),
                _ => Err(self.malformed(
                    at,
                    "a field class name refers to something that is not a string",
                )),
            },
            t => Err(self.unsupported(
                at,
                format!(
                    "token {t:#04x} ({}) where a field class name is expected",
                    token_name(t)
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mysecret entry's stream from jceks-jdk17.jceks (offset 0x21C), abridged: the
    /// encrypted content is cut to 4 bytes.
    fn sealed_key() -> Vec<u8> {
        let mut v = vec![0xAC, 0xED, 0x00, 0x05, TC_OBJECT, TC_CLASSDESC];
        let name = b"com.sun.crypto.provider.SealedObjectForKeyProtector";
        v.extend((name.len() as u16).to_be_bytes());
        v.extend(name);
        v.extend([
            0xCD,
            0x57,
            0xCA,
            0x59,
            0xE7,
            0x30,
            0xBB,
            0x53,
            0x02,
            0x00,
            0x00,
            TC_ENDBLOCKDATA,
        ]);
        v.push(TC_CLASSDESC);
        v.extend(b"\x00\x19javax.crypto.SealedObject");
        v.extend([
            0x3E, 0x36, 0x3D, 0xA6, 0xC3, 0xB7, 0x54, 0x70, 0x02, 0x00, 0x04,
        ]);
        v.extend(b"[\x00\x0dencodedParamst\x00\x02[B");
        v.extend(b"[\x00\x10encryptedContentq\x00\x7e\x00\x02");
        v.extend(b"L\x00\x09paramsAlgt\x00\x12Ljava/lang/String;");
        v.extend(b"L\x00\x07sealAlgq\x00\x7e\x00\x03");
        v.extend([TC_ENDBLOCKDATA, TC_NULL]);
        // encodedParams: new array class [B (handle 5), array handle 6, 2 bytes
        v.extend(
            b"ur\x00\x02[B\xac\xf3\x17\xf8\x06\x08\x54\xe0\x02\x00\x00xp\x00\x00\x00\x02\x30\x00",
        );
        // encryptedContent: class by reference to handle 5
        v.extend(b"uq\x00\x7e\x00\x05\x00\x00\x00\x04\x01\x02\x03\x04");
        v.extend(b"t\x00\x03PBEt\x00\x03PBE");
        v
    }

    #[test]
    fn skips_a_sealed_key_exactly() {
        let mut data = vec![0xEE; 3];
        let s = sealed_key();
        data.extend(&s);
        data.extend([0, 0, 0, 1]);
        assert_eq!(
            skip_stream(&data, 3).unwrap(),
            Skipped {
                end: 3 + s.len(),
                java_rejects: None
            }
        );
    }

    /// What Java's loader rejects is found, and the stream is still skipped exactly.
    #[test]
    fn names_what_java_rejects() {
        let ok = sealed_key();
        let verdict = |v: &[u8]| skip_stream(v, 0).map(|s| (s.end == v.len(), s.java_rejects));
        assert_eq!(verdict(&ok).unwrap(), (true, None));

        // A bare javax.crypto.SealedObject (pyjks' unknown_sealed_object_sealAlg): the
        // class at depth 1 must be SealedObjectForKeyProtector.
        let name = b"com.sun.crypto.provider.SealedObjectForKeyProtector";
        let sup_at = 4 + 2 + 2 + name.len() + 8 + 1 + 2 + 1;
        let mut bare = ok[..6].to_vec();
        bare.extend(&ok[sup_at + 1..]);
        // The references to handles shift by one (no SOFKP descriptor): rebuild them.
        let bare: Vec<u8> = {
            let mut v = bare;
            for i in 0..v.len().saturating_sub(3) {
                if v[i] == TC_REFERENCE && v[i + 1] == 0x00 && v[i + 2] == 0x7E && v[i + 3] == 0x00
                {
                    v[i + 4] -= 1;
                }
            }
            v
        };
        let (exact, why) = verdict(&bare).unwrap();
        assert!(exact);
        assert!(why.unwrap().contains("javax.crypto.SealedObject"));

        // Another class altogether (pyjks' unknown_type_of_sealed_object).
        let mut other = vec![0xAC, 0xED, 0x00, 0x05, TC_OBJECT, TC_CLASSDESC];
        other
            .extend(b"\x00\x15org.pyjks.DummyObject\x65\x30\xf3\x80\x90\xcb\x36\x2c\x02\x00\x00xp");
        let (exact, why) = verdict(&other).unwrap();
        assert!(exact);
        assert!(why.unwrap().contains("org.pyjks.DummyObject"));

        // The right class with another serialVersionUID.
        let mut suid = ok.clone();
        suid[4 + 2 + 2 + name.len()] ^= 1;
        assert!(verdict(&suid)
            .unwrap()
            .1
            .unwrap()
            .contains("serialVersionUID"));

        // A field declared with another type.
        let mut typed = ok.clone();
        let at = typed
            .windows(b"[\x00\x0dencodedParams".len())
            .position(|w| w == b"[\x00\x0dencodedParams")
            .unwrap();
        typed[at + 2 + 1 + 13 + 3] = b'I'; // "[B" -> "[I"
        assert!(verdict(&typed)
            .unwrap()
            .1
            .unwrap()
            .contains("encodedParams"));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let s = sealed_key();
        for cut in 0..s.len() {
            assert!(skip_stream(&s[..cut], 0).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn fails_closed_on_other_tokens() {
        for t in [0x76u8, 0x77, 0x79, 0x7A, 0x7B, 0x7C, 0x7D, 0x7E] {
            let data = [0xAC, 0xED, 0x00, 0x05, t, 0, 0, 0, 0];
            assert!(
                matches!(skip_stream(&data, 0), Err(KeystoreError::Unsupported(_))),
                "token {t:#x}"
            );
        }
        // writeObject classes (SC_WRITE_METHOD) carry block data: refused.
        let mut s = sealed_key();
        let flags_at = 4 + 2 + 2 + 51 + 8;
        assert_eq!(s[flags_at], SC_SERIALIZABLE);
        s[flags_at] |= SC_WRITE_METHOD;
        assert!(matches!(
            skip_stream(&s, 0),
            Err(KeystoreError::Unsupported(_))
        ));
    }

    #[test]
    fn depth_is_bounded() {
        // An object whose only field is an object of the same class, nested forever.
        let mut data = vec![0xAC, 0xED, 0x00, 0x05, TC_OBJECT, TC_CLASSDESC];
        data.extend(
            b"\x00\x01A\x00\x00\x00\x00\x00\x00\x00\x01\x02\x00\x01L\x00\x01at\x00\x03LA;xp",
        );
        for _ in 0..10_000 {
            data.extend(b"sq\x00\x7e\x00\x00");
        }
        assert!(matches!(
            skip_stream(&data, 0),
            Err(KeystoreError::Unsupported(_))
        ));
    }

    #[test]
    fn self_referencing_superclass_is_refused() {
        let mut data = vec![0xAC, 0xED, 0x00, 0x05, TC_OBJECT, TC_CLASSDESC];
        data.extend(b"\x00\x01A\x00\x00\x00\x00\x00\x00\x00\x01\x02\x00\x00xq\x00\x7e\x00\x00");
        assert!(matches!(
            skip_stream(&data, 0),
            Err(KeystoreError::Malformed(_))
        ));
    }

    #[test]
    fn huge_array_lengths_are_checked() {
        let mut data = vec![0xAC, 0xED, 0x00, 0x05, TC_OBJECT, TC_CLASSDESC];
        data.extend(
            b"\x00\x01A\x00\x00\x00\x00\x00\x00\x00\x01\x02\x00\x01[\x00\x01at\x00\x02[Jxp",
        );
        data.extend(b"ur\x00\x02[J\x00\x00\x00\x00\x00\x00\x00\x01\x02\x00\x00xp\x7f\xff\xff\xff");
        assert!(matches!(
            skip_stream(&data, 0),
            Err(KeystoreError::Truncated(_))
        ));
        let n = data.len();
        data[n - 4] = 0xFF;
        assert!(matches!(
            skip_stream(&data, 0),
            Err(KeystoreError::Malformed(_))
        ));
    }
}
