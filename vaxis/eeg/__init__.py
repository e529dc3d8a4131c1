"""EEG data layer: FACED / SEED-V readers, synthetic cohorts, band features, montage."""
