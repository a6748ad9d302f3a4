//! What an x86_64 ELF executable needs to run, read from its headers: the program interpreter
//! (the dynamic loader), the shared libraries it names (`DT_NEEDED`), and whether it carries the
//! GNU ABI tag note that glibc's start files add (musl's do not).

/// `e_machine` of x86_64.
pub const EM_X86_64: u16 = 62;

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PT_NOTE: u32 = 4;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const NT_GNU_ABI_TAG: u32 = 1;

/// The facts of one executable.
#[derive(Debug, PartialEq, Eq)]
pub struct Elf {
    /// `e_machine`.
    pub machine: u16,
    /// The program interpreter (`PT_INTERP`), if any.
    pub interpreter: Option<String>,
    /// The shared libraries of its `DT_NEEDED` entries.
    pub needed: Vec<String>,
    /// Whether a note `GNU`/`NT_GNU_ABI_TAG` is present (glibc's start files add one).
    pub gnu_abi_tag: bool,
}

struct Segment {
    kind: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    align: u64,
}

fn bytes(data: &[u8], at: u64, len: u64) -> Result<&[u8], String> {
    let start = usize::try_from(at).map_err(|_| format!("offset {at} too large"))?;
    let len = usize::try_from(len).map_err(|_| format!("length {len} too large"))?;
    start
        .checked_add(len)
        .and_then(|end| data.get(start..end))
        .ok_or_else(|| format!("{len} bytes at {start} are past the end ({})", data.len()))
}

fn u16_at(data: &[u8], at: u64) -> Result<u16, String> {
    Ok(u16::from_le_bytes(
        bytes(data, at, 2)?.try_into().expect("2 bytes"),
    ))
}

fn u32_at(data: &[u8], at: u64) -> Result<u32, String> {
    Ok(u32::from_le_bytes(
        bytes(data, at, 4)?.try_into().expect("4 bytes"),
    ))
}

fn u64_at(data: &[u8], at: u64) -> Result<u64, String> {
    Ok(u64::from_le_bytes(
        bytes(data, at, 8)?.try_into().expect("8 bytes"),
    ))
}

/// The NUL-terminated string at `at`.
fn c_string(data: &[u8], at: u64) -> Result<String, String> {
    let rest = usize::try_from(at)
        .ok()
        .and_then(|at| data.get(at..))
        .ok_or_else(|| format!("the string at {at} is past the end ({})", data.len()))?;
    let end = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| format!("the string at {at} does not end"))?;
    Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
}

fn segments(data: &[u8]) -> Result<Vec<Segment>, String> {
    let phoff = u64_at(data, 32)?;
    let phentsize = u64::from(u16_at(data, 54)?);
    let phnum = u16_at(data, 56)?;
    if phentsize < 56 {
        return Err(format!("program header entries of {phentsize} bytes"));
    }
    (0..u64::from(phnum))
        .map(|i| {
            let at = phoff + i * phentsize;
            Ok(Segment {
                kind: u32_at(data, at)?,
                offset: u64_at(data, at + 8)?,
                vaddr: u64_at(data, at + 16)?,
                filesz: u64_at(data, at + 32)?,
                align: u64_at(data, at + 48)?,
            })
        })
        .collect()
}

/// The file offset of virtual address `vaddr` (through the loadable segment holding it).
fn file_offset(segments: &[Segment], vaddr: u64) -> Result<u64, String> {
    segments
        .iter()
        .filter(|s| s.kind == PT_LOAD)
        .find(|s| vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz)
        .map(|s| s.offset + (vaddr - s.vaddr))
        .ok_or_else(|| format!("address {vaddr:#x} is in no loadable segment"))
}

fn needed(data: &[u8], segments: &[Segment], dynamic: &Segment) -> Result<Vec<String>, String> {
    let entries = bytes(data, dynamic.offset, dynamic.filesz)?;
    let mut names = Vec::new();
    let mut strtab = None;
    for entry in entries.chunks_exact(16) {
        let tag = u64_at(entry, 0)?;
        let value = u64_at(entry, 8)?;
        match tag {
            0 => break,
            DT_NEEDED => names.push(value),
            DT_STRTAB => strtab = Some(value),
            _ => {}
        }
    }
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let strtab = strtab.ok_or("DT_NEEDED entries without a string table")?;
    let strtab = file_offset(segments, strtab)?;
    names
        .into_iter()
        .map(|name| c_string(data, strtab + name))
        .collect()
}

fn has_gnu_abi_tag(data: &[u8], note: &Segment) -> Result<bool, String> {
    let notes = bytes(data, note.offset, note.filesz)?;
    let align = if note.align == 8 { 8 } else { 4 };
    let pad = |n: u64| n.div_ceil(align) * align;
    let mut at = 0u64;
    while at + 12 <= notes.len() as u64 {
        let namesz = u64::from(u32_at(notes, at)?);
        let descsz = u64::from(u32_at(notes, at + 4)?);
        let kind = u32_at(notes, at + 8)?;
        let name = bytes(notes, at + 12, namesz)?;
        if kind == NT_GNU_ABI_TAG && name == b"GNU\0" {
            return Ok(true);
        }
        at += 12 + pad(namesz) + pad(descsz);
    }
    Ok(false)
}

/// Reads a little-endian 64-bit ELF file; anything else is an error saying what it is not.
pub fn inspect(data: &[u8]) -> Result<Elf, String> {
    if bytes(data, 0, 4)? != b"\x7fELF" {
        return Err("not an ELF file".to_owned());
    }
    if bytes(data, 4, 2)? != [2, 1] {
        return Err("not a little-endian 64-bit ELF file".to_owned());
    }
    let segments = segments(data)?;
    let mut elf = Elf {
        machine: u16_at(data, 18)?,
        interpreter: None,
        needed: Vec::new(),
        gnu_abi_tag: false,
    };
    for segment in &segments {
        match segment.kind {
            PT_INTERP => elf.interpreter = Some(c_string(data, segment.offset)?),
            PT_DYNAMIC => elf.needed = needed(data, &segments, segment)?,
            PT_NOTE => elf.gnu_abi_tag |= has_gnu_abi_tag(data, segment)?,
            _ => {}
        }
    }
    Ok(elf)
}
