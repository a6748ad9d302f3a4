//! The repository's Dockerfile read as instructions, and what its final stage runs: the
//! entrypoint, the environment and the user.

/// One instruction: its keyword (upper case), its arguments and the stage it belongs to (0 for
/// the instructions before the first `FROM`, 1 for the first stage, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub stage: usize,
    pub keyword: String,
    pub args: String,
}

/// What the image runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// `ENTRYPOINT` in exec form.
    pub entrypoint: Vec<String>,
    /// `ENV` of the final stage, in order.
    pub(crate) env: Vec<(String, String)>,
    /// `USER` of the final stage.
    pub user: String,
}

impl Image {
    /// The value of `ENV` variable `name`.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The instructions of the repository's Dockerfile.
pub fn read() -> Vec<Instruction> {
    let path = crate::repo_root().join("Dockerfile");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    instructions(&text)
}

/// The instructions of a Dockerfile: comment lines dropped, continued lines (`\` at the end)
/// joined.
pub(crate) fn instructions(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut stage = 0;
    let mut pending = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        if let Some(continued) = trimmed.strip_suffix('\\') {
            pending.push_str(continued);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let full = std::mem::take(&mut pending);
        let (keyword, args) = full.split_once(char::is_whitespace).unwrap_or((&full, ""));
        let keyword = keyword.to_ascii_uppercase();
        if keyword == "FROM" {
            stage += 1;
        }
        out.push(Instruction {
            stage,
            keyword,
            args: args.trim().to_owned(),
        });
    }
    out
}

/// `KEY=VALUE ...` (or the old `KEY VALUE`) of an `ENV` instruction; quoted values are not read.
fn env_pairs(args: &str) -> Result<Vec<(String, String)>, String> {
    if args.contains(['"', '\'']) {
        return Err(format!("ENV {args}: quoted values are not read here"));
    }
    let mut words = args.split_whitespace();
    let first = words.next().ok_or("ENV without a variable")?;
    if !first.contains('=') {
        let value: Vec<&str> = words.collect();
        return Ok(vec![(first.to_owned(), value.join(" "))]);
    }
    std::iter::once(first)
        .chain(words)
        .map(|pair| {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("ENV {args}: {pair} is not KEY=VALUE"))?;
            Ok((key.to_owned(), value.to_owned()))
        })
        .collect()
}

/// What the last stage of `instructions` runs.
pub fn image(instructions: &[Instruction]) -> Result<Image, String> {
    let last = instructions.iter().map(|i| i.stage).max().unwrap_or(0);
    let mut image = Image {
        entrypoint: Vec::new(),
        env: Vec::new(),
        user: String::new(),
    };
    for instruction in instructions.iter().filter(|i| i.stage == last) {
        match instruction.keyword.as_str() {
            "ENTRYPOINT" => {
                image.entrypoint = serde_json::from_str(&instruction.args).map_err(|e| {
                    format!("ENTRYPOINT {} is not in exec form: {e}", instruction.args)
                })?
            }
            "ENV" => image.env.extend(env_pairs(&instruction.args)?),
            "USER" => image.user = instruction.args.clone(),
            _ => {}
        }
    }
    Ok(image)
}
