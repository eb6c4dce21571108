-- A flag keeps what it says apart from its wording (its check, message id and parameters as
-- values), so that comparing a later year again recognises a flag whose message an upgrade
-- reworded. Flags recorded before have none: they are matched by their text, and given their
-- key the first time a comparison raises them again.
ALTER TABLE flags ADD COLUMN message_key VARCHAR;
