"""PHP analysis: tree-sitter parsing, class symbols and an abstract interpreter that
follows Magento data from its sources into outbound requests, logs and writes."""
