# EIS: equivalent-circuit fit of every impedance spectrum of a sample, with Lin-KK
# (echem.workflow.eis:eis_sample; runs in each sample's job, rules/sample.smk).

STAGES["eis"] = {
    "settings": config["eis"],
    "outputs": {
        "table": "tables/eis.csv",
        "fits": "eis_fits.json",
        "audit": "audit/eis/",
        "figures": "figures/eis/",
        "errors": "errors/eis.csv",
    },
}
