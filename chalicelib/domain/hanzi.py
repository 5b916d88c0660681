"""Traditional → simplified Chinese folding for complaint text, without a conversion dependency.

Complaints arrive from Hong Kong, Macau and Taiwan customers (and from mainland users with
traditional input methods); the catalog's keywords are simplified. A full OpenCC table is megabytes;
complaints use a few hundred characters, so a hand-written map of the characters that occur in
telecom complaints is enough, plus the regional words that differ beyond characters (簡訊 → 短信).
Common Cantonese function words are folded too. Only unambiguous characters are mapped: e.g. 著 is left alone because it is also simplified (显著).
"""

from __future__ import annotations

# Pairs "traditional simplified", space separated, so a misaligned pair is easy to spot.
_PAIRS = """
訊讯 號号 話话 費费 簡简 發发 髮发 機机 們们 這这 裡里 裏里 網网 絡络 線线 斷断 電电 說说 聽听 聲声
語语 碼码 張张 單单 帳账 賬账 銀银 錢钱 儲储 額额 餘余 訂订 閱阅 務务 業业 開开 關关 無无 應应 該该
讓让 問问 題题 須须 對对 錯错 誤误 時时 間间 還还 過过 個个 幾几 條条 麼么 為为 樣样 後后 會会 來来
現现 實实 際际 總总 啟启 動动 種种 傳传 顯显 圖图 態态 員员 廳厅 營营 櫃柜 臺台 檯台 惡恶 罵骂 掛挂
氣气 煩烦 騷骚 擾扰 詐诈 騙骗 廣广 貸贷 賣卖 買买 價价 優优 贈赠 換换 積积 點点 紅红 兌兑 禮礼 遊游
國国 長长 區区 邊边 鄰邻 鈴铃 樂乐 報报 紙纸 聞闻 鐘钟 質质 雜杂 迴回 續续 蓋盖 樓楼 層层 裝装 設设
備备 戲戏 擊击 鏈链 結结 連连 證证 驗验 遲迟 準准 確确 據据 記记 錄录 詳详 細细 購购 類类 約约 終终
場场 貴贵 賓宾 經经 聯联 繫系 係系 團团 體体 學学 師师 車车 輛辆 飯饭 預预 館馆 從从 沒没 幫帮 請请
給给 與与 銷销 復复 複复 製制 盜盗 竊窃 隱隐 資资 護护 親亲 屬属 權权 義义 幣币 塊块 萬万 億亿 計计
認认 兒儿 嗎吗 誰谁 頭头 門门 閒闲 閑闲 減减 虛虚 誇夸 導导 擇择 選选 項项 規规 則则 難难 壞坏 損损
維维 廠厂 礙碍 處处 辦办 繳缴 納纳 帶带 舊旧 寶宝 檔档 載载 頁页 軟软 瀏浏 覽览 讀读 寫写 數数 週周
歲岁 歷历 曆历 醫医 險险 嚇吓 爛烂 擁拥 擠挤 頓顿 閃闪 專专 轉转 撥拨 鬧闹 簽签 籤签 協协 議议 託托
誌志 標标 級级 顧顾 歸归 鎖锁 腦脑 螢萤 檢检 測测 試试 當当 剛刚 見见 視视 頻频 鄉乡 農农 產产 貨货
運运 輸输 倉仓 駕驾 衛卫 範范 圍围 節节 勞劳 兩两 雙双 鬆松 緊紧 熱热 靈灵 構构 組组 織织 職职 濟济
統统 響响 畫画 鍵键 鈕钮 匯汇 貼贴 補补 償偿 賠赔 賺赚 虧亏 賴赖 講讲 談谈 論论 謝谢 譯译 識识 詢询
諮咨 訴诉 評评 調调 訪访 誠诚 紹绍 絕绝 縮缩 績绩 紀纪 純纯 練练 綁绑 綠绿 緣缘 編编 縣县 繼继 鐵铁
鋪铺 閉闭 陽阳 陰阴 隊队 隨随 雖虽 離离 雲云 靜静 順顺 飛飞 馬马 驚惊 齊齐 齡龄 龍龙 並并 倆俩 儀仪
內内 冊册 註注 凍冻 劃划 創创 劇剧 勝胜 卻却 參参 變变 嚴严 圓圆 壓压 墊垫 夠够 夢梦 夥伙 媽妈 審审
寬宽 將将 尋寻 屆届 廈厦 廢废 彈弹 強强 徵征 惱恼 慣惯 習习 憑凭 戰战 戶户 掃扫 採采 搶抢 擔担 擬拟
擴扩 攜携 敗败 於于 暫暂 曉晓 書书 東东 極极 權权 歡欢 漲涨 滿满 漢汉 爭争 獎奖 環环 盡尽 監监 盤盘
穩稳 競竞 筆笔 糾纠 紛纷 綜综 緩缓 罰罚 聖圣 脅胁 舉举 術术 覺觉 觀观 諾诺 謊谎 負负 財财 責责 販贩
趕赶 較较 輕轻 進进 違违 遠远 適适 遺遗 郵邮 釋释 陸陆 頂顶 領领 黃黄 費费 麵面 藥药 貓猫 鬥斗 臉脸
衝冲 彙汇 嘆叹 佈布 傑杰 啟启 鎮镇 島岛 嶼屿 廚厨 棄弃 淨净 溝沟 滅灭 災灾 爺爷 爸爸 獨独 瑪玛 畢毕
療疗 癢痒 發发 盞盏 碩硕 礎础 禍祸 窮穷 竄窜 築筑 簡简 籌筹 紮扎 絲丝 綱纲 緒绪 線线 縱纵 總总 繩绳
纜缆 罷罢 聳耸 膽胆 膚肤 艱艰 莊庄 葉叶 蘇苏 蟲虫 襪袜 觸触 誕诞 誘诱 諒谅 謀谋 謂谓 豐丰 貞贞 賀贺
賦赋 賭赌 贊赞 趙赵 蹤踪 躍跃 軍军 軌轨 輔辅 輝辉 輪轮 辭辞 農农 邁迈 鄭郑 醜丑 釘钉 鈔钞 鉤钩 鋒锋
錦锦 鍋锅 鎊镑 鏡镜 鑰钥 閘闸 闆板 陣阵 階阶 隸隶 雞鸡 電电 霧雾 韓韩 頁页 頗颇 頸颈 顆颗 餓饿 騎骑
驅驱 髒脏 鬱郁 鴨鸭 鹽盐 麗丽 亂乱 仆仆 僅仅 們们 優优 兇凶 凱凯 劍剑 勵励 勢势 匯汇 厲厉 叢丛 吳吴
嗚呜 噸吨 圍围 圖图 墳坟 壇坛 壽寿 奧奥 奪夺 奮奋 婦妇 孫孙 寧宁 寢寝 屍尸 岡冈 峽峡 幣币 幹干 庫库
廟庙 廬庐 徑径 恥耻 悅悦 惡恶 愛爱 慶庆 憂忧 懷怀 懶懒 拋抛 揚扬 擋挡 擾扰 攝摄 敵敌 斂敛 暈晕 槍枪
樞枢 櫻樱 毆殴 氣气 滯滞 潔洁 潛潜 灑洒 濃浓 燈灯 燒烧 煙烟 猶犹 獲获 瑣琐 甦苏 畫画 癡痴 盧卢 瞞瞒
礦矿 祕秘 稅税 窩窝 竊窃 筍笋 範范 糧粮 紡纺 綫线 緻致 縫缝 繞绕 罈坛 羅罗 聰聪 肅肃 腫肿 艦舰 蓮莲
薦荐 蘭兰 虧亏 衆众 裝装 褲裤 覓觅 診诊 詞词 詩诗 誇夸 誼谊 謎谜 譜谱 讚赞 豬猪 貧贫 貶贬 賤贱 贓赃
贖赎 跡迹 踐践 軋轧 輩辈 輯辑 轎轿 辯辩 遞递 邏逻 鄧邓 醬酱 釣钓 銳锐 鋁铝 錨锚 鍛锻 鏟铲 鐘钟
閥阀 闖闯 隻只 雜杂 雛雏 雙双 靂雳 響响 頒颁 頑顽 顛颠 颱台 飄飘 飼饲 飽饱 餅饼 餵喂 饑饥 驛驿 驟骤
"""

CHAR_MAP: dict[int, str] = {}
for _pair in _PAIRS.split():
    assert len(_pair) == 2, _pair
    _trad, _simp = _pair[0], _pair[1]
    if _trad != _simp:
        CHAR_MAP[ord(_trad)] = _simp

# Regional words that differ beyond characters, written in simplified characters because they
# are applied after the character folding.
PHRASES: tuple[tuple[str, str], ...] = (
    ("来电答铃", "彩铃"),
    ("答铃", "彩铃"),
    ("简讯", "短信"),
    ("讯息", "短信"),
    ("讯号", "信号"),
    ("收讯", "信号"),
    ("网路", "网络"),
    ("门号", "号码"),
    ("储值卡", "充值卡"),
    ("储值", "充值"),
    ("加值", "增值"),
    ("红利积点", "积分"),
    ("积点", "积分"),
    ("品质", "质量"),
    ("传送", "发送"),
    ("行动上网", "上网"),
    ("行动数据", "流量"),
    ("行动电话", "手机"),
    ("门市", "营业厅"),
    ("客服专线", "客服热线"),
    ("帐单", "账单"),
    # Cantonese as typed in Hong Kong and Guangdong; keeps 冇訊號 from reading as gibberish.
    ("屋企", "家里"),
    ("乜嘢", "什么"),
    ("点解", "为什么"),
    ("冇", "没"),
    ("嘅", "的"),
    ("喺", "在"),
    ("唔", "不"),
    ("咗", "了"),
    ("佢", "他"),
    ("畀", "给"),
    ("啲", "些"),
)


def to_simplified(text: str) -> str:
    """Fold traditional characters and regional words to the simplified forms the catalog uses."""
    folded = text.translate(CHAR_MAP)
    for regional, mainland in PHRASES:
        if regional in folded:
            folded = folded.replace(regional, mainland)
    return folded
