# Ingest: read every file of a sample into the canonical measurement
# (echem.workflow.ingest:ingest_sample; runs first in each sample's job, rules/sample.smk).

STAGES["ingest"] = {
    "settings": config["defaults"],
    "outputs": {
        "manifest": "manifest.csv",
        "ingest": "ingest.json",
        "canonical": "canonical/",
        "errors": "errors/ingest.csv",
    },
}
