//! `--format sarif`: SARIF 2.1.0 for code scanning (GitHub, Azure DevOps). One run; the driver
//! lists every rule that ran and the engine's own findings; waived findings carry an external
//! suppression with the exception's justification. Every result has a fingerprint
//! (`partialFingerprints`, [`FINGERPRINT_KEY`]) that does not depend on its line, and a finding
//! about a folder is shown at the folder's first file ([`super::folder_anchor`]).

use super::RuleMeta;
use crate::lint::{FINGERPRINT_KEY, Finding, Outcome, Severity};
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run,
    Sarif, Suppression, Tool, ToolComponent,
};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn level_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn descriptor(r: &RuleMeta) -> ReportingDescriptor {
    let mut tags = vec![r.id.split('/').next().unwrap_or_default().to_string()];
    tags.extend(r.controls.iter().map(|c| c.id.clone()));
    let mut extra = BTreeMap::new();
    if !r.controls.is_empty() {
        extra.insert(
            "baseline".to_string(),
            serde_json::to_value(&r.controls).unwrap_or_default(),
        );
    }
    ReportingDescriptor::builder()
        .id(r.id.clone())
        .name(r.id.replace(['/', '-'], "_"))
        .short_description(
            MultiformatMessageString::builder()
                .text(r.summary.clone())
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(r.doc.clone())
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(format!(
                    "{}\n\nMore: `tenantgate rules explain {}`",
                    r.doc, r.id
                ))
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::Value::from(level_name(r.severity)))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(tags)
                .additional_properties(extra)
                .build(),
        )
        .build()
}

/// Where a result is shown: its file, line and column; a finding about a folder at the
/// folder's first file (`anchor`, line 1), since code scanning shows results on files only.
fn location(f: &Finding, anchor: Option<&str>) -> Location {
    let uri = anchor
        .unwrap_or_else(|| f.path.trim_start_matches("builtin:"))
        .to_string();
    let mut physical = PhysicalLocation::builder()
        .artifact_location(ArtifactLocation::builder().uri(uri).build())
        .build();
    if anchor.is_some() {
        physical.region = Some(Region::builder().start_line(1).start_column(1).build());
    } else if let Some(line) = f.line {
        physical.region = Some(
            Region::builder()
                .start_line(line as i64)
                .start_column(f.column.unwrap_or(1) as i64)
                .build(),
        );
    }
    Location::builder().physical_location(physical).build()
}

fn result(
    f: &Finding,
    index: Option<usize>,
    fingerprint: String,
    anchor: Option<&str>,
) -> SarifResult {
    let mut text = f.message.clone();
    if anchor.is_some() {
        text.push_str(&format!("\nabout the folder {}", f.path));
    }
    if let Some(h) = &f.help {
        text.push_str(&format!("\nhelp: {h}"));
    }
    let mut r = SarifResult::builder()
        .rule_id(f.rule.clone())
        .level(level(f.severity))
        .message(Message::builder().text(text).build())
        .locations(vec![location(f, anchor)])
        .build();
    r.rule_index = index.map(|i| i as i64);
    r.partial_fingerprints = Some(BTreeMap::from([(FINGERPRINT_KEY.to_string(), fingerprint)]));
    if !f.related.is_empty() {
        r.related_locations = Some(
            f.related
                .iter()
                .map(|p| {
                    Location::builder()
                        .physical_location(
                            PhysicalLocation::builder()
                                .artifact_location(
                                    ArtifactLocation::builder().uri(p.clone()).build(),
                                )
                                .build(),
                        )
                        .build()
                })
                .collect(),
        );
    }
    let mut props = BTreeMap::new();
    if let Some(p) = &f.pointer {
        props.insert(
            "jsonPointer".to_string(),
            serde_json::Value::from(p.clone()),
        );
    }
    if anchor.is_some() {
        props.insert(
            "folder".to_string(),
            serde_json::Value::from(f.path.clone()),
        );
    }
    if !props.is_empty() {
        r.properties = Some(PropertyBag::builder().additional_properties(props).build());
    }
    if let Some(w) = &f.waived {
        r.suppressions = Some(vec![
            Suppression::builder()
                .kind(serde_json::Value::from("external"))
                .justification(format!(
                    "{} (approved by {}, until {}; {})",
                    w.justification, w.approved_by, w.expires, w.source
                ))
                .build(),
        ]);
    }
    r
}

pub fn render(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    let rules = super::rule_metas(&outcome.rules);
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let driver = ToolComponent::builder()
        .name("TenantGate")
        .version(env!("CARGO_PKG_VERSION").to_string())
        .rules(rules.iter().map(descriptor).collect::<Vec<_>>())
        .build();
    // Findings come sorted by file and line: the n-th of one fingerprint stays the n-th.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let results: Vec<SarifResult> = outcome
        .findings
        .iter()
        .map(|f| {
            let hash = f.fingerprint();
            let n = seen.entry(hash.clone()).or_default();
            *n += 1;
            let anchor = super::folder_anchor(outcome, f);
            result(
                f,
                index.get(f.rule.as_str()).copied(),
                format!("{hash}:{n}"),
                anchor.as_deref(),
            )
        })
        .collect();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(serde_json::Value::from("unicodeCodePoints"))
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA.to_string())
        .version(serde_json::Value::from("2.1.0"))
        .runs(vec![run])
        .build();
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}
