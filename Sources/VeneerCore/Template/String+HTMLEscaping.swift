extension String {
    /// The text with `& < > " '` replaced by entities: safe as element text and as a quoted attribute value.
    /// The one escaper of the project: templates' `escape` filter and the rewriter's attribute values use it.
    ///
    /// ```swift
    /// "Tom & \"Jerry\"".htmlEscaped  // "Tom &amp; &quot;Jerry&quot;"
    /// ```
    public var htmlEscaped: String { TemplateFilter.htmlEscaped(self) }
}
